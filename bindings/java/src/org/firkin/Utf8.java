package org.firkin;

import java.nio.charset.StandardCharsets;

/**
 * Text for C: true UTF-8, never JNI's modified UTF-8 (which writes a character
 * outside the BMP as two 3-byte surrogates, CESU-8, and U+0000 as C0 80). Used
 * by the SWIG typemaps of every {@code const char *} (bindings/swig/firkin_java.swg).
 */
final class Utf8 {
  private Utf8() {}

  /**
   * The UTF-8 bytes of s (null for null) for a NUL-terminated C string; InvalidArgument
   * if s holds a NUL, where C would cut it (dropNamespace("users\0archive") would
   * drop "users"). InvalidArgument too for an unpaired surrogate, which has no
   * UTF-8 form: getBytes would write '?' for it, so "a\uD800" and "a\uDBFF" would
   * name one directory, and two passphrases one key.
   */
  static byte[] cstr(String s) {
    if (s == null) {
      return null;
    }
    if (s.indexOf('\0') >= 0) {
      throw new FirkinException.InvalidArgument(
          "a string passed to the library (a path, a name, an option or a passphrase) cannot hold a NUL character");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new FirkinException.InvalidArgument(
            "a string passed to the library (a path, a name, an option or a passphrase) holds an unpaired surrogate at index "
                + i + " (it has no UTF-8 form)");
      }
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A C string's UTF-8 bytes as a String (null for null). */
  static String string(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
