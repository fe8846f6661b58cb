// firkin_testing.h: the experimental fault-injection hooks, exported by the
// test-only library libfirkin_testing.so (tests/support/meson.build), never
// by the product libfirkin.so. That library is built from the very objects of
// libfirkin.so plus this file and fault_env.cc, so the handles below reach
// into the same capi structs (capi/internal.h) as the product's code.
//
// Thread contract: that of firkin_testing.h (a fault environment may be
// shared by the database's threads; every call may be made from any thread).
#include "tests/support/firkin_testing.h"

#include "capi/internal.h"
#include "tests/support/fault_env.h"

// The handle behind firkin_fault_env: owns the FaultEnv. Thread contract:
// that of FaultEnv (thread-safe); freed by one thread once no database uses it.
struct firkin_fault_env {
  std::unique_ptr<firkin::FaultEnv> env;
};

using namespace firkin::capi;
using firkin::FaultEnv;

namespace {
firkin_status NullEnv() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "fault env handle is NULL"); }
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_fault_env_new(firkin_fault_env** out) {
  return Guard([&] {
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *out = new firkin_fault_env{FaultEnv::Create(firkin::Env::Default())};
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_fault_env_free(firkin_fault_env* env) { delete env; }

FIRKIN_API firkin_status firkin_options_set_fault_env(firkin_options* opts,
                                                      firkin_fault_env* env) {
  if (opts == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL");
  opts->opts.env = env == nullptr ? nullptr : env->env.get();
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_options_set_test_clock(firkin_options* opts,
                                                        uint64_t (*clock)(void* ctx),
                                                        void* ctx) {
  if (opts == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL");
  opts->opts.clock = clock;
  opts->opts.clock_ctx = clock == nullptr ? nullptr : ctx;
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_fault_env_fail(firkin_fault_env* env, firkin_fault_op op,
                                               uint64_t nth, firkin_status error, bool sticky) {
  if (env == nullptr) return NullEnv();
  const int kind = EnumValue(op);
  if (kind < 0 || kind >= FIRKIN_FAULT_OP_COUNT) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "unknown fault op");
  }
  if (error != FIRKIN_E_IO && error != FIRKIN_E_NO_SPACE) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "fault error must be FIRKIN_E_IO or FIRKIN_E_NO_SPACE");
  }
  env->env->FailNth(static_cast<FaultEnv::Op>(kind), nth,
                    error == FIRKIN_E_IO ? firkin::Status::Code::kIOError
                                         : firkin::Status::Code::kNoSpace,
                    sticky);
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API uint64_t firkin_fault_env_count(const firkin_fault_env* env, firkin_fault_op op) {
  const int kind = EnumValue(op);
  if (env == nullptr || kind < 0 || kind >= FIRKIN_FAULT_OP_COUNT) return 0;
  return env->env->Count(static_cast<FaultEnv::Op>(kind));
}

FIRKIN_API firkin_status firkin_fault_env_crash(firkin_fault_env* env, firkin_crash_mode mode,
                                                uint64_t seed) {
  return Guard([&] {
    if (env == nullptr) return NullEnv();
    const int m = EnumValue(mode);
    if (m < FIRKIN_CRASH_DROP || m > FIRKIN_CRASH_KILL) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "unknown crash mode");
    }
    return Done(env->env->Crash(static_cast<FaultEnv::CrashMode>(m), seed));
  });
}

FIRKIN_API firkin_status firkin_fault_env_reset(firkin_fault_env* env) {
  if (env == nullptr) return NullEnv();
  env->env->Reset();
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_fault_env_hold_writebehind(firkin_fault_env* env) {
  if (env == nullptr) return NullEnv();
  env->env->HoldNextWriteBehind();
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API bool firkin_fault_env_holding(const firkin_fault_env* env) {
  return env != nullptr && env->env->Holding();
}

FIRKIN_API firkin_status firkin_fault_env_release(firkin_fault_env* env) {
  if (env == nullptr) return NullEnv();
  env->env->ReleaseHeld();
  ClearLastError();
  return FIRKIN_OK;
}

}  // extern "C"
