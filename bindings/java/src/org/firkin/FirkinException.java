package org.firkin;

/**
 * A failed Firkin call: the status code and the library's message
 * (firkin_last_error, read inside the native call that failed).
 *
 * <p>Each status has its own subclass, nested here, so callers catch what they
 * handle: {@code catch (FirkinException.Busy e)}. The exceptions are unchecked;
 * "not found" is never thrown by reads ({@code get} returns null).
 */
public class FirkinException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  public FirkinException(int code, String message) {
    super(message);
    this.code = code;
  }

  /** The numeric firkin_status. */
  public int code() {
    return code;
  }

  /** The status. */
  public Status status() {
    return Status.of(code);
  }

  @Override
  public String toString() {
    return getClass().getName() + " [" + status() + "]: " + getMessage();
  }

  /** The typed exception for a status, its message as UTF-8 bytes (called from the JNI wrapper). */
  static FirkinException create(int code, byte[] message) {
    return create(code, Utf8.string(message));
  }

  /** The typed exception for a status. */
  public static FirkinException create(int code, String message) {
    switch (code) {
      case -1:
        return new NotFound(message);
      case -2:
        return new InvalidArgument(message);
      case -3:
        return new IOError(message);
      case -4:
        return new Corruption(message);
      case -5:
        return new Busy(message);
      case -6:
        return new ReadOnly(message);
      case -7:
        return new ConditionFailed(message);
      case -8:
        return new Conflict(message);
      case -9:
        return new NoSpace(message);
      case -10:
        return new NoMemory(message);
      case -11:
        return new TooLarge(message);
      case -12:
        return new BufferTooSmall(message);
      case -13:
        return new Closed(message);
      case -14:
        return new Version(message);
      case -15:
        return new SnapshotTooOld(message);
      case -16:
        return new NamespaceNotFound(message);
      case -17:
        return new Exists(message);
      case -18:
        return new NotADatabase(message);
      case -19:
        return new NotSupported(message);
      case -20:
        return new Internal(message);
      case -21:
        return new BadKey(message);
      default:
        return new FirkinException(code, message);
    }
  }

  /** Status NOT_FOUND (-1). */
  public static class NotFound extends FirkinException {
    private static final long serialVersionUID = 1L;

    public NotFound(String message) {
      super(-1, message);
    }
  }

  /** Status INVALID_ARGUMENT (-2). */
  public static class InvalidArgument extends FirkinException {
    private static final long serialVersionUID = 1L;

    public InvalidArgument(String message) {
      super(-2, message);
    }
  }

  /** Status IO (-3). */
  public static class IOError extends FirkinException {
    private static final long serialVersionUID = 1L;

    public IOError(String message) {
      super(-3, message);
    }
  }

  /** Status CORRUPTION (-4). */
  public static class Corruption extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Corruption(String message) {
      super(-4, message);
    }
  }

  /** Status BUSY (-5). */
  public static class Busy extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Busy(String message) {
      super(-5, message);
    }
  }

  /** Status READ_ONLY (-6). */
  public static class ReadOnly extends FirkinException {
    private static final long serialVersionUID = 1L;

    public ReadOnly(String message) {
      super(-6, message);
    }
  }

  /** Status CONDITION_FAILED (-7). */
  public static class ConditionFailed extends FirkinException {
    private static final long serialVersionUID = 1L;

    public ConditionFailed(String message) {
      super(-7, message);
    }
  }

  /** Status CONFLICT (-8). */
  public static class Conflict extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Conflict(String message) {
      super(-8, message);
    }
  }

  /** Status NO_SPACE (-9). */
  public static class NoSpace extends FirkinException {
    private static final long serialVersionUID = 1L;

    public NoSpace(String message) {
      super(-9, message);
    }
  }

  /** Status NO_MEMORY (-10). */
  public static class NoMemory extends FirkinException {
    private static final long serialVersionUID = 1L;

    public NoMemory(String message) {
      super(-10, message);
    }
  }

  /** Status TOO_LARGE (-11). */
  public static class TooLarge extends FirkinException {
    private static final long serialVersionUID = 1L;

    public TooLarge(String message) {
      super(-11, message);
    }
  }

  /** Status BUFFER_TOO_SMALL (-12). */
  public static class BufferTooSmall extends FirkinException {
    private static final long serialVersionUID = 1L;

    public BufferTooSmall(String message) {
      super(-12, message);
    }
  }

  /** Status CLOSED (-13). */
  public static class Closed extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Closed(String message) {
      super(-13, message);
    }
  }

  /** Status VERSION (-14). */
  public static class Version extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Version(String message) {
      super(-14, message);
    }
  }

  /** Status SNAPSHOT_TOO_OLD (-15). */
  public static class SnapshotTooOld extends FirkinException {
    private static final long serialVersionUID = 1L;

    public SnapshotTooOld(String message) {
      super(-15, message);
    }
  }

  /** Status NAMESPACE_NOT_FOUND (-16). */
  public static class NamespaceNotFound extends FirkinException {
    private static final long serialVersionUID = 1L;

    public NamespaceNotFound(String message) {
      super(-16, message);
    }
  }

  /** Status EXISTS (-17). */
  public static class Exists extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Exists(String message) {
      super(-17, message);
    }
  }

  /** Status NOT_A_DATABASE (-18). */
  public static class NotADatabase extends FirkinException {
    private static final long serialVersionUID = 1L;

    public NotADatabase(String message) {
      super(-18, message);
    }
  }

  /** Status NOT_SUPPORTED (-19). */
  public static class NotSupported extends FirkinException {
    private static final long serialVersionUID = 1L;

    public NotSupported(String message) {
      super(-19, message);
    }
  }

  /** Status INTERNAL (-20). */
  public static class Internal extends FirkinException {
    private static final long serialVersionUID = 1L;

    public Internal(String message) {
      super(-20, message);
    }
  }


  /**
   * Status BAD_KEY (-21): an encrypted database opened without its key or with
   * a wrong one, or an unencrypted one opened with a key.
   */
  public static class BadKey extends FirkinException {
    private static final long serialVersionUID = 1L;

    public BadKey(String message) {
      super(-21, message);
    }
  }
}
