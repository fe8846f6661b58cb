package org.firkin;

import java.lang.ref.Cleaner;

/**
 * The release of C handles a program forgets to close: one {@link Cleaner}
 * (one daemon thread, "firkin-cleaner") shared by every handle class.
 *
 * <p>Each handle class registers, when it takes its C handle, an action that
 * frees it (firkin_close, firkin_snapshot_free, ...). {@code close()} runs the
 * action at once through {@link Cleaner.Cleanable#clean}, which runs it at
 * most once; for a handle never closed, the Cleaner runs it after the object
 * has become unreachable, so a forgotten iterator, snapshot, namespace,
 * transaction or database no longer keeps the database open, and its
 * directory lock held, for the life of the process. An action holds the C
 * pointer only, never its object (or the object would never become
 * unreachable). C lets children be freed in any order (firkin.h convention
 * 4), which the Cleaner needs: a forgotten snapshot and its database may be
 * released in the same collection, either first.
 *
 * <p>The generated native methods keep each handle argument reachable until
 * the call has returned, and each handle its owner (the {@code owner} field,
 * firkin_java.swg), so no action can run under a call in flight on the
 * handle.
 *
 * <p>Thread contract: {@link #register} from any thread; an action runs on
 * the thread calling {@code close()} or on the cleaner thread, once.
 */
final class Handles {
  private static final Cleaner CLEANER =
      Cleaner.create(
          r -> {
            Thread t = new Thread(r, "firkin-cleaner");
            t.setDaemon(true);
            return t;
          });

  private Handles() {}

  /** Registers release to run once owner is unreachable (or on clean()). */
  static Cleaner.Cleanable register(Object owner, Runnable release) {
    return CLEANER.register(owner, release);
  }
}
