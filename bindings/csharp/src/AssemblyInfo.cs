using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("Firkin")]
[assembly: AssemblyDescription("C# binding of Firkin, an embedded key-value store")]
[assembly: AssemblyVersion("0.1.0.0")]
// The conformance runner, tests, leak check and benchmark reach the raw layer.
[assembly: InternalsVisibleTo("Firkin.Tests")]
[assembly: InternalsVisibleTo("FirkinConformance")]
[assembly: InternalsVisibleTo("FirkinLeakCheck")]
[assembly: InternalsVisibleTo("FirkinBench")]
