// Status codes and the typed exceptions of the Firkin C# binding.
using System;
using System.Runtime.Serialization;

namespace Firkin
{
    /// <summary>The status codes of capi/firkin.h. Codes are never renumbered.</summary>
    public enum Status
    {
        Ok = 0,
        NotFound = -1,
        InvalidArgument = -2,
        IO = -3,
        Corruption = -4,
        Busy = -5,
        ReadOnly = -6,
        ConditionFailed = -7,
        Conflict = -8,
        NoSpace = -9,
        NoMemory = -10,
        TooLarge = -11,
        BufferTooSmall = -12,
        Closed = -13,
        Version = -14,
        SnapshotTooOld = -15,
        NamespaceNotFound = -16,
        Exists = -17,
        NotADatabase = -18,
        NotSupported = -19,
        Internal = -20,
        /// <summary>Encryption at rest: missing, wrong or unexpected key (issue 12).</summary>
        BadKey = -21,
    }

    /// <summary>
    /// A failed Firkin call: the status and the library's message
    /// (firkin_last_error, read inside the native call that failed). Each
    /// status has its own subclass (BusyException, ...). "Not found" is never
    /// thrown by reads: Get returns null.
    /// </summary>
    [Serializable]
    public class FirkinException : Exception
    {
        /// <summary>The numeric firkin_status.</summary>
        public int Code { get; }

        /// <summary>The status.</summary>
        public Status Status { get { return (Status)Code; } }

        public FirkinException(int code, string message) : base(message)
        {
            Code = code;
        }

        /// <summary>Serialization (remoting, AppDomains, BinaryFormatter): the
        /// exceptions were not serializable until the review of the bindings' API.</summary>
        protected FirkinException(SerializationInfo info, StreamingContext context) : base(info, context)
        {
            Code = info.GetInt32("FirkinCode");
        }

        public override void GetObjectData(SerializationInfo info, StreamingContext context)
        {
            base.GetObjectData(info, context);
            info.AddValue("FirkinCode", Code);
        }

        public override string ToString()
        {
            return GetType().FullName + " [" + Status + "]: " + Message;
        }

        /// <summary>The typed exception for a status (called from the P/Invoke layer).</summary>
        public static FirkinException Create(int code, string message)
        {
            switch (code)
            {
                case -1: return new NotFoundException(message);
                case -2: return new InvalidArgumentException(message);
                case -3: return new FirkinIOException(message);
                case -4: return new CorruptionException(message);
                case -5: return new BusyException(message);
                case -6: return new ReadOnlyException(message);
                case -7: return new ConditionFailedException(message);
                case -8: return new ConflictException(message);
                case -9: return new NoSpaceException(message);
                case -10: return new NoMemoryException(message);
                case -11: return new TooLargeException(message);
                case -12: return new BufferTooSmallException(message);
                case -13: return new ClosedException(message);
                case -14: return new VersionException(message);
                case -15: return new SnapshotTooOldException(message);
                case -16: return new NamespaceNotFoundException(message);
                case -17: return new ExistsException(message);
                case -18: return new NotADatabaseException(message);
                case -19: return new FirkinNotSupportedException(message);
                case -20: return new InternalException(message);
                case -21: return new BadKeyException(message);
                default: return new FirkinException(code, message);
            }
        }
    }

    /// <summary>Status NOT_FOUND (-1).</summary>
    [Serializable]
    public class NotFoundException : FirkinException
    {
        public NotFoundException(string message) : base(-1, message) { }
        protected NotFoundException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status INVALID_ARGUMENT (-2).</summary>
    [Serializable]
    public class InvalidArgumentException : FirkinException
    {
        public InvalidArgumentException(string message) : base(-2, message) { }
        protected InvalidArgumentException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status IO (-3).</summary>
    [Serializable]
    public class FirkinIOException : FirkinException
    {
        public FirkinIOException(string message) : base(-3, message) { }
        protected FirkinIOException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status CORRUPTION (-4).</summary>
    [Serializable]
    public class CorruptionException : FirkinException
    {
        public CorruptionException(string message) : base(-4, message) { }
        protected CorruptionException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status BUSY (-5).</summary>
    [Serializable]
    public class BusyException : FirkinException
    {
        public BusyException(string message) : base(-5, message) { }
        protected BusyException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status READ_ONLY (-6).</summary>
    [Serializable]
    public class ReadOnlyException : FirkinException
    {
        public ReadOnlyException(string message) : base(-6, message) { }
        protected ReadOnlyException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status CONDITION_FAILED (-7).</summary>
    [Serializable]
    public class ConditionFailedException : FirkinException
    {
        public ConditionFailedException(string message) : base(-7, message) { }
        protected ConditionFailedException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status CONFLICT (-8).</summary>
    [Serializable]
    public class ConflictException : FirkinException
    {
        public ConflictException(string message) : base(-8, message) { }
        protected ConflictException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status NO_SPACE (-9).</summary>
    [Serializable]
    public class NoSpaceException : FirkinException
    {
        public NoSpaceException(string message) : base(-9, message) { }
        protected NoSpaceException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status NO_MEMORY (-10).</summary>
    [Serializable]
    public class NoMemoryException : FirkinException
    {
        public NoMemoryException(string message) : base(-10, message) { }
        protected NoMemoryException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status TOO_LARGE (-11).</summary>
    [Serializable]
    public class TooLargeException : FirkinException
    {
        public TooLargeException(string message) : base(-11, message) { }
        protected TooLargeException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status BUFFER_TOO_SMALL (-12).</summary>
    [Serializable]
    public class BufferTooSmallException : FirkinException
    {
        public BufferTooSmallException(string message) : base(-12, message) { }
        protected BufferTooSmallException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status CLOSED (-13).</summary>
    [Serializable]
    public class ClosedException : FirkinException
    {
        public ClosedException(string message) : base(-13, message) { }
        protected ClosedException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status VERSION (-14).</summary>
    [Serializable]
    public class VersionException : FirkinException
    {
        public VersionException(string message) : base(-14, message) { }
        protected VersionException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status SNAPSHOT_TOO_OLD (-15).</summary>
    [Serializable]
    public class SnapshotTooOldException : FirkinException
    {
        public SnapshotTooOldException(string message) : base(-15, message) { }
        protected SnapshotTooOldException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status NAMESPACE_NOT_FOUND (-16).</summary>
    [Serializable]
    public class NamespaceNotFoundException : FirkinException
    {
        public NamespaceNotFoundException(string message) : base(-16, message) { }
        protected NamespaceNotFoundException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status EXISTS (-17).</summary>
    [Serializable]
    public class ExistsException : FirkinException
    {
        public ExistsException(string message) : base(-17, message) { }
        protected ExistsException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status NOT_A_DATABASE (-18).</summary>
    [Serializable]
    public class NotADatabaseException : FirkinException
    {
        public NotADatabaseException(string message) : base(-18, message) { }
        protected NotADatabaseException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status NOT_SUPPORTED (-19).</summary>
    [Serializable]
    public class FirkinNotSupportedException : FirkinException
    {
        public FirkinNotSupportedException(string message) : base(-19, message) { }
        protected FirkinNotSupportedException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status INTERNAL (-20).</summary>
    [Serializable]
    public class InternalException : FirkinException
    {
        public InternalException(string message) : base(-20, message) { }
        protected InternalException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

    /// <summary>Status BAD_KEY (-21): an encrypted database opened without its key or with
    /// a wrong one, or an unencrypted one opened with a key.</summary>
    [Serializable]
    public class BadKeyException : FirkinException
    {
        public BadKeyException(string message) : base(-21, message) { }
        protected BadKeyException(SerializationInfo info, StreamingContext context) : base(info, context) { }
    }

}
