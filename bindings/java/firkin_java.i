/* firkin_java.i — the Java entry file: package org.firkin, raw classes
 * FirkinNative / FirkinNativeJNI (package-private). The public API is the
 * hand-written classes in src/org/firkin. */
%module(jniclassname="FirkinNativeJNI") FirkinNative

%pragma(java) moduleclassmodifiers="final class"
%pragma(java) jniclassclassmodifiers="final class"
%pragma(java) moduleimports=""
/* The JNI library is loaded before the first native call. */
%pragma(java) jniclasscode=%{
  static {
    NativeLibrary.load();
  }
%}

%include "firkin.i"
