package org.firkin;

/**
 * Loads the JNI library (libfirkin_jni.so), which depends on libfirkin.so.
 *
 * <p>If the system property {@code firkin.jni.path} names a file, that file is
 * loaded; otherwise {@code System.loadLibrary("firkin_jni")} searches
 * {@code java.library.path}. libfirkin.so itself is found through the JNI
 * library's RUNPATH ($ORIGIN), then the usual dynamic linker search.
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
      System.loadLibrary("firkin_jni");
    }
    loaded = true;
  }
}
