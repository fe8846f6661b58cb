package org.firkin;

/** The status codes of capi/firkin.h. Codes are never renumbered. */
public enum Status {
  OK(0),
  NOT_FOUND(-1),
  INVALID_ARGUMENT(-2),
  IO(-3),
  CORRUPTION(-4),
  BUSY(-5),
  READ_ONLY(-6),
  CONDITION_FAILED(-7),
  CONFLICT(-8),
  NO_SPACE(-9),
  NO_MEMORY(-10),
  TOO_LARGE(-11),
  BUFFER_TOO_SMALL(-12),
  CLOSED(-13),
  VERSION(-14),
  SNAPSHOT_TOO_OLD(-15),
  NAMESPACE_NOT_FOUND(-16),
  EXISTS(-17),
  NOT_A_DATABASE(-18),
  NOT_SUPPORTED(-19),
  INTERNAL(-20),
  /** Encryption at rest: missing, wrong or unexpected key (issue 12). */
  BAD_KEY(-21),
  /** A code this binding does not know (a newer library). */
  UNKNOWN(Integer.MIN_VALUE);

  private final int code;

  Status(int code) {
    this.code = code;
  }

  /** The numeric firkin_status. */
  public int code() {
    return code;
  }

  /** The status for a numeric code, UNKNOWN if there is none. */
  public static Status of(int code) {
    if (code <= 0 && code >= -21) {
      return values()[-code];
    }
    return UNKNOWN;
  }

  /** The library's static description (firkin_strerror). */
  public String description() {
    return FirkinNative.fkb_strerror(code);
  }
}
