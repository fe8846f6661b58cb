// firkin_options and firkin_write_options.
#include <cstdlib>

#include "capi/internal.h"

using namespace firkin::capi;
using firkin::Status;
using firkin::SyncMode;

namespace {

firkin_status NullOpts() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL"); }
firkin_status NullOut() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL"); }

// Setter/getter pairs for boolean options.
#define FIRKIN_BOOL_OPTION(name)                                                          \
  FIRKIN_API firkin_status firkin_options_set_##name(firkin_options* o, bool v) {         \
    if (o == nullptr) return NullOpts();                                                  \
    o->opts.name = v;                                                                     \
    ClearLastError();                                                                     \
    return FIRKIN_OK;                                                                     \
  }                                                                                       \
  FIRKIN_API firkin_status firkin_options_get_##name(const firkin_options* o, bool* out) { \
    if (o == nullptr) return NullOpts();                                                  \
    if (out == nullptr) return NullOut();                                                 \
    *out = o->opts.name;                                                                  \
    ClearLastError();                                                                     \
    return FIRKIN_OK;                                                                     \
  }

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_options_new(firkin_options** out) {
  return Guard([&] {
    if (out == nullptr) return NullOut();
    *out = new firkin_options();
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_options_free(firkin_options* o) { delete o; }

FIRKIN_BOOL_OPTION(create_if_missing)
FIRKIN_BOOL_OPTION(error_if_exists)
FIRKIN_BOOL_OPTION(read_only)
FIRKIN_BOOL_OPTION(salvage)
FIRKIN_BOOL_OPTION(verify_checksums)
FIRKIN_BOOL_OPTION(auto_compact)

FIRKIN_API firkin_status firkin_options_set_compact_dead_ratio(firkin_options* o, uint32_t v) {
  if (o == nullptr) return NullOpts();
  return Done(o->opts.SetCompactDeadRatio(v));
}
FIRKIN_API firkin_status firkin_options_get_compact_dead_ratio(const firkin_options* o,
                                                               uint32_t* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = o->opts.compact_dead_ratio;
  ClearLastError();
  return FIRKIN_OK;
}
FIRKIN_API firkin_status firkin_options_set_compact_space_amp(firkin_options* o, uint32_t v) {
  if (o == nullptr) return NullOpts();
  return Done(o->opts.SetCompactSpaceAmp(v));
}
FIRKIN_API firkin_status firkin_options_get_compact_space_amp(const firkin_options* o,
                                                              uint32_t* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = o->opts.compact_space_amp;
  ClearLastError();
  return FIRKIN_OK;
}
FIRKIN_API firkin_status firkin_options_set_compact_rate(firkin_options* o, uint64_t v) {
  if (o == nullptr) return NullOpts();
  o->opts.compact_rate = v;
  ClearLastError();
  return FIRKIN_OK;
}
FIRKIN_API firkin_status firkin_options_get_compact_rate(const firkin_options* o, uint64_t* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = o->opts.compact_rate;
  ClearLastError();
  return FIRKIN_OK;
}
FIRKIN_API firkin_status firkin_options_set_checkpoint_every(firkin_options* o, uint64_t v) {
  if (o == nullptr) return NullOpts();
  o->opts.checkpoint_every = v;
  ClearLastError();
  return FIRKIN_OK;
}
FIRKIN_API firkin_status firkin_options_get_checkpoint_every(const firkin_options* o,
                                                             uint64_t* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = o->opts.checkpoint_every;
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_options_set_sync_mode(firkin_options* o, firkin_sync_mode v) {
  if (o == nullptr) return NullOpts();
  return Done(o->opts.SetSyncMode(static_cast<SyncMode>(EnumValue(v))));
}
FIRKIN_API firkin_status firkin_options_get_sync_mode(const firkin_options* o,
                                                      firkin_sync_mode* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = static_cast<firkin_sync_mode>(o->opts.sync_mode);
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_options_set_sync_interval_ms(firkin_options* o, uint32_t v) {
  if (o == nullptr) return NullOpts();
  return Done(o->opts.SetSyncIntervalMs(v));
}
FIRKIN_API firkin_status firkin_options_get_sync_interval_ms(const firkin_options* o,
                                                             uint32_t* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = o->opts.sync_interval_ms;
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_options_set_segment_size(firkin_options* o, uint64_t v) {
  if (o == nullptr) return NullOpts();
  return Done(o->opts.SetSegmentSize(v));
}
FIRKIN_API firkin_status firkin_options_get_segment_size(const firkin_options* o, uint64_t* out) {
  if (o == nullptr) return NullOpts();
  if (out == nullptr) return NullOut();
  *out = o->opts.segment_size;
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_options_set(firkin_options* o, const char* name,
                                            const char* value) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (name == nullptr || value == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "option name or value is NULL");
    }
    return Done(o->opts.Set(name, value));
  });
}

FIRKIN_API firkin_status firkin_options_get(const firkin_options* o, const char* name,
                                            char** out) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (name == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "option name is NULL");
    if (out == nullptr) return NullOut();
    std::string v;
    Status s = o->opts.Get(name, &v);
    if (!s.ok()) return Done(s);
    v.push_back('\0');
    *out = static_cast<char*>(CopyOut(v));
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_write_options_new(firkin_write_options** out) {
  return Guard([&] {
    if (out == nullptr) return NullOut();
    *out = new firkin_write_options();
    ClearLastError();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_write_options_free(firkin_write_options* wo) { delete wo; }

FIRKIN_API firkin_status firkin_write_options_set_sync(firkin_write_options* wo,
                                                       firkin_sync_mode v) {
  if (wo == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "write options handle is NULL");
  const int mode = EnumValue(v);
  if (mode < FIRKIN_SYNC_DEFAULT || mode > FIRKIN_SYNC_ALWAYS) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "sync must be default, none, interval or always");
  }
  wo->sync = static_cast<SyncMode>(mode);
  ClearLastError();
  return FIRKIN_OK;
}

FIRKIN_API firkin_status firkin_write_options_get_sync(const firkin_write_options* wo,
                                                       firkin_sync_mode* out) {
  if (wo == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "write options handle is NULL");
  if (out == nullptr) return NullOut();
  *out = static_cast<firkin_sync_mode>(wo->sync);
  ClearLastError();
  return FIRKIN_OK;
}

}  // extern "C"
