// firkin_options and firkin_write_options.
#include <cstdlib>

#include "capi/internal.h"

using namespace firkin::capi;
using firkin::Status;
using firkin::SyncMode;

namespace {

firkin_status NullOpts() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL"); }

// A typed getter: copies field into *out.
template <typename T, typename F>
firkin_status GetField(const firkin_options* o, T* out, F field) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (firkin_status c = CheckOut(out)) return c;
    *out = static_cast<T>(field(o->opts));
    return FIRKIN_OK;
  });
}

// A typed setter: set(opts) returns the core's Status.
template <typename F>
firkin_status SetField(firkin_options* o, F set) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    return Done(set(o->opts));
  });
}

// Setter/getter pairs for plain fields (every value is valid).
#define FIRKIN_PLAIN_OPTION(name, type)                                                    \
  FIRKIN_API firkin_status firkin_options_set_##name(firkin_options* o, type v) {          \
    return SetField(o, [&](firkin::Options& x) {                                           \
      x.name = v;                                                                          \
      return Status::OK();                                                                 \
    });                                                                                    \
  }                                                                                        \
  FIRKIN_API firkin_status firkin_options_get_##name(const firkin_options* o, type* out) { \
    return GetField(o, out, [](const firkin::Options& x) { return x.name; });              \
  }

// Setter/getter pairs for fields the core validates (Setter returns Status).
#define FIRKIN_CHECKED_OPTION(name, type, Setter)                                          \
  FIRKIN_API firkin_status firkin_options_set_##name(firkin_options* o, type v) {          \
    return SetField(o, [&](firkin::Options& x) { return x.Setter(v); });                   \
  }                                                                                        \
  FIRKIN_API firkin_status firkin_options_get_##name(const firkin_options* o, type* out) { \
    return GetField(o, out, [](const firkin::Options& x) { return x.name; });              \
  }

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_options_new(firkin_options** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = new firkin_options();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_options_free(firkin_options* o) { delete o; }

FIRKIN_PLAIN_OPTION(create_if_missing, bool)
FIRKIN_PLAIN_OPTION(error_if_exists, bool)
FIRKIN_PLAIN_OPTION(read_only, bool)
FIRKIN_PLAIN_OPTION(salvage, bool)
FIRKIN_PLAIN_OPTION(verify_checksums, bool)
FIRKIN_PLAIN_OPTION(auto_compact, bool)
FIRKIN_CHECKED_OPTION(compact_dead_ratio, uint32_t, SetCompactDeadRatio)
FIRKIN_CHECKED_OPTION(compact_space_amp, uint32_t, SetCompactSpaceAmp)
FIRKIN_PLAIN_OPTION(compact_rate, uint64_t)
FIRKIN_PLAIN_OPTION(checkpoint_every, uint64_t)
FIRKIN_PLAIN_OPTION(change_retention_bytes, uint64_t)
FIRKIN_PLAIN_OPTION(change_retention_seqs, uint64_t)
FIRKIN_PLAIN_OPTION(history_retention_ms, uint64_t)
FIRKIN_PLAIN_OPTION(txn_max_age_ms, uint64_t)
FIRKIN_CHECKED_OPTION(sync_interval_ms, uint32_t, SetSyncIntervalMs)
FIRKIN_CHECKED_OPTION(segment_size, uint64_t, SetSegmentSize)

FIRKIN_API firkin_status firkin_options_set_sync_mode(firkin_options* o, firkin_sync_mode v) {
  return SetField(
      o, [&](firkin::Options& x) { return x.SetSyncMode(static_cast<SyncMode>(EnumValue(v))); });
}
FIRKIN_API firkin_status firkin_options_get_sync_mode(const firkin_options* o,
                                                      firkin_sync_mode* out) {
  return GetField(o, out, [](const firkin::Options& x) { return x.sync_mode; });
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

FIRKIN_API firkin_status firkin_options_get(const firkin_options* o, const char* name, char** out) {
  return Guard([&] {
    if (o == nullptr) return NullOpts();
    if (name == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "option name is NULL");
    if (firkin_status c = CheckOut(out)) return c;
    std::string v;
    Status s = o->opts.Get(name, &v);
    if (!s.ok()) return Done(s);
    v.push_back('\0');
    *out = static_cast<char*>(CopyOut(v));
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_write_options_new(firkin_write_options** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = new firkin_write_options();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_write_options_free(firkin_write_options* wo) { delete wo; }

FIRKIN_API firkin_status firkin_write_options_set_sync(firkin_write_options* wo,
                                                       firkin_sync_mode v) {
  return Guard([&] {
    if (wo == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "write options handle is NULL");
    const int mode = EnumValue(v);
    if (mode < FIRKIN_SYNC_DEFAULT || mode > FIRKIN_SYNC_ALWAYS) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "sync must be default, none, interval or always");
    }
    wo->sync = static_cast<SyncMode>(mode);
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_write_options_get_sync(const firkin_write_options* wo,
                                                       firkin_sync_mode* out) {
  return Guard([&] {
    if (wo == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "write options handle is NULL");
    if (firkin_status c = CheckOut(out)) return c;
    *out = static_cast<firkin_sync_mode>(wo->sync);
    return FIRKIN_OK;
  });
}

}  // extern "C"
