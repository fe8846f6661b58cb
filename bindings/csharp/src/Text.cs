namespace Firkin
{
    /// <summary>Text for C (used by the SWIG typemaps of every <c>const char *</c>).</summary>
    internal static class Text
    {
        /// <summary>s itself (null for null) if it can cross as a NUL-terminated C string:
        /// InvalidArgumentException if it holds a NUL, where C would cut it, or an unpaired
        /// surrogate, which has no UTF-8 form (the marshaller threw a plain ArgumentException
        /// for it, which code catching FirkinException missed).</summary>
        internal static string C(string s)
        {
            if (s == null) return s;
            if (s.IndexOf('\0') >= 0)
                throw new InvalidArgumentException(
                    "a string passed to the library (a path, a name, an option or a passphrase) cannot hold a NUL character");
            for (int i = 0; i < s.Length; i++)
            {
                if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    i++;
                else if (char.IsSurrogate(s[i]))
                    throw new InvalidArgumentException(
                        "a string passed to the library (a path, a name, an option or a passphrase) holds an unpaired surrogate at index " +
                        i + " (it has no UTF-8 form)");
            }
            return s;
        }
    }
}
