/* firkin_csharp.i — the C# entry file: namespace Firkin, raw classes
 * FirkinNative / FirkinNativePINVOKE (internal), P/Invoke library
 * libfirkin_csharp.so. The public API is the hand-written classes in src/. */
%module(imclassname="FirkinNativePINVOKE") FirkinNative

/* unsafe: its methods pin byte arrays with `fixed` (firkin_csharp.swg). */
%pragma(csharp) moduleclassmodifiers="internal unsafe class"
%pragma(csharp) imclassclassmodifiers="internal class"

%include "firkin.i"
