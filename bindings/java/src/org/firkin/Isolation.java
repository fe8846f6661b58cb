package org.firkin;

/** Isolation level of a {@link Transaction} (firkin_isolation). */
public enum Isolation {
  /**
   * The default: reads see the snapshot taken at begin plus the transaction's
   * own writes; commit throws {@link FirkinException.Conflict} if a key it
   * writes changed after that snapshot. Write skew is possible.
   */
  SNAPSHOT(0),
  /**
   * In addition every key it read (absent ones included) and every namespace
   * it iterated must be unchanged at commit.
   */
  SERIALIZABLE(1);

  final int code;

  Isolation(int code) {
    this.code = code;
  }
}
