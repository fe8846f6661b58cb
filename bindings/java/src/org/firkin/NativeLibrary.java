package org.firkin;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Loads the JNI library (libfirkin_jni.so), which depends on libfirkin.so.
 *
 * <p>In this order: the file named by the system property {@code
 * firkin.jni.path}; else {@code System.loadLibrary("firkin_jni")} through
 * {@code java.library.path}; else, for an installed jar, the file named by
 * {@code jni.path} in the jar's {@code org/firkin/install.properties}, which
 * {@code make install} writes (PREFIX/lib/libfirkin_jni.so), so that {@code
 * java -cp PREFIX/share/java/firkin.jar:. App} works for any PREFIX.
 * libfirkin.so itself is found through the JNI library's RUNPATH ($ORIGIN:
 * both are installed in the same directory), then the usual dynamic linker
 * search.
 *
 * <p>Thread contract: {@link #load} is synchronized and idempotent.
 */
final class NativeLibrary {
  private static boolean loaded;

  private NativeLibrary() {}

  static synchronized void load() {
    if (loaded) {
      return;
    }
    String path = System.getProperty("firkin.jni.path");
    if (path != null && !path.isEmpty()) {
      System.load(path);
    } else {
      try {
        System.loadLibrary("firkin_jni");
      } catch (UnsatisfiedLinkError e) {
        String installed = installedPath();
        if (installed == null) {
          throw e;
        }
        System.load(installed);
      }
    }
    loaded = true;
  }

  /** The installed libfirkin_jni.so named by install.properties, or null. */
  private static String installedPath() {
    try (InputStream in = NativeLibrary.class.getResourceAsStream("install.properties")) {
      if (in == null) {
        return null;
      }
      Properties p = new Properties();
      p.load(in);
      String path = p.getProperty("jni.path");
      return path == null || path.isEmpty() ? null : path;
    } catch (IOException e) {
      return null;
    }
  }
}
