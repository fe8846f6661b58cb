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
   * drop "users"). An unpaired surrogate becomes '?'.
   */
  static byte[] cstr(String s) {
    if (s == null) {
      return null;
    }
    if (s.indexOf('\0') >= 0) {
      throw new FirkinException.InvalidArgument(
          "a string passed to the library (a path, a name, an option or a passphrase) cannot hold a NUL character");
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A C string's UTF-8 bytes as a String (null for null). */
  static String string(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
