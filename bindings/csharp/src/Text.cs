namespace Firkin
{
    /// <summary>Text for C (used by the SWIG typemaps of every <c>const char *</c>).</summary>
    internal static class Text
    {
        /// <summary>s itself (null for null) if it can cross as a NUL-terminated C string:
        /// InvalidArgumentException if it holds a NUL, where C would cut it.</summary>
        internal static string C(string s)
        {
            if (s != null && s.IndexOf('\0') >= 0)
                throw new InvalidArgumentException(
                    "a string passed to the library (a path, a name, an option or a passphrase) cannot hold a NUL character");
            return s;
        }
    }
}
