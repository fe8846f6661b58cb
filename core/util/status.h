// Status: the result of a core operation, a code plus a message.
//
// The message lives on the heap and only when there is one: an OK status
// (the common result, passed up through several calls on every read and
// write) is a code and a null pointer, made and dropped with two stores
// and a test, where a std::string member cost a string's construction,
// moves and destruction at each step.
//
// Thread contract: a Status is a value type; distinct objects may be used
// from distinct threads freely. Each Code maps one-to-one onto a FIRKIN_E_*
// status of the C API (capi/firkin.h) and has the same numeric value.
#ifndef FIRKIN_CORE_UTIL_STATUS_H_
#define FIRKIN_CORE_UTIL_STATUS_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace firkin {

class Status {
 public:
  enum class Code : int {
    kOk = 0,
    kNotFound = -1,
    kInvalidArgument = -2,
    kIOError = -3,
    kCorruption = -4,
    kBusy = -5,
    kReadOnly = -6,
    kConditionFailed = -7,
    kConflict = -8,
    kNoSpace = -9,
    kNoMemory = -10,
    kTooLarge = -11,
    kBufferTooSmall = -12,
    kClosed = -13,
    kVersion = -14,
    kSnapshotTooOld = -15,
    kNamespaceNotFound = -16,
    kExists = -17,
    kNotADatabase = -18,
    kNotSupported = -19,
    kInternal = -20,
    // ---- encryption at rest (issue 12) ----
    kBadKey = -21,
  };

  Status() = default;
  Status(Code code, std::string msg)
      : code_(code), msg_(msg.empty() ? nullptr : new std::string(std::move(msg))) {}
  Status(const Status& o) : code_(o.code_), msg_(o.msg_ ? new std::string(*o.msg_) : nullptr) {}
  Status& operator=(const Status& o) {
    if (this != &o) {
      code_ = o.code_;
      msg_.reset(o.msg_ ? new std::string(*o.msg_) : nullptr);
    }
    return *this;
  }
  Status(Status&& o) noexcept = default;
  Status& operator=(Status&& o) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string m = "") { return {Code::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Busy(std::string m) { return {Code::kBusy, std::move(m)}; }
  static Status ReadOnly(std::string m) { return {Code::kReadOnly, std::move(m)}; }
  static Status ConditionFailed(std::string m) { return {Code::kConditionFailed, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status NoMemory(std::string m) { return {Code::kNoMemory, std::move(m)}; }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status BufferTooSmall(std::string m) { return {Code::kBufferTooSmall, std::move(m)}; }
  static Status Closed(std::string m) { return {Code::kClosed, std::move(m)}; }
  static Status Version(std::string m) { return {Code::kVersion, std::move(m)}; }
  static Status SnapshotTooOld(std::string m) { return {Code::kSnapshotTooOld, std::move(m)}; }
  static Status NamespaceNotFound(std::string m) { return {Code::kNamespaceNotFound, std::move(m)}; }
  static Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
  static Status NotADatabase(std::string m) { return {Code::kNotADatabase, std::move(m)}; }
  static Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status BadKey(std::string m) { return {Code::kBadKey, std::move(m)}; }

  // An I/O failure from errno: ENOSPC/EDQUOT become kNoSpace, ENOMEM
  // kNoMemory, others kIOError.
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsSnapshotTooOld() const { return code_ == Code::kSnapshotTooOld; }
  Code code() const { return code_; }
  int raw_code() const { return static_cast<int>(code_); }
  const std::string& message() const { return msg_ ? *msg_ : EmptyMessage(); }
  std::string ToString() const;

 private:
  static const std::string& EmptyMessage();

  Code code_ = Code::kOk;
  std::unique_ptr<std::string> msg_;  // null: no message
};

// Propagates a non-OK status to the caller.
#define FIRKIN_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::firkin::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)

}  // namespace firkin

#endif  // FIRKIN_CORE_UTIL_STATUS_H_
