using System;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace Firkin.Tests
{
    /// <summary>
    /// The base of every NUnit fixture here: a fresh temporary directory per
    /// test (<c>tmp</c>, removed afterwards) and <c>B</c>, a string as UTF-8
    /// bytes. One test at a time per fixture instance (NUnit's contract).
    /// </summary>
    public abstract class TempDirFixture
    {
        protected string tmp;

        [SetUp]
        public void MakeTempDir()
        {
            tmp = Path.Combine(Path.GetTempPath(),
                               "firkin-nunit-" + GetType().Name + "-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tmp);
        }

        [TearDown]
        public void RemoveTempDir()
        {
            try { Directory.Delete(tmp, true); } catch (IOException) { }
        }

        protected static byte[] B(string s) { return Encoding.UTF8.GetBytes(s); }
    }
}
