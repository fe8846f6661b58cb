// The change feed: firkin_changes_* (a cursor over the committed changes,
// with the batched firkin_changes_next_n for bindings).
#include <cstring>

#include "capi/internal.h"
#include "core/util/coding.h"

using namespace firkin::capi;

namespace {
firkin_status NullCursor() {
  return Fail(FIRKIN_E_INVALID_ARGUMENT, "change cursor handle is NULL");
}
firkin_status NotValid() {
  ClearLastError();
  return FIRKIN_E_NOT_FOUND;
}
constexpr size_t kEntryHeader = 24;
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_changes_options_new(firkin_changes_options** out) {
  return Guard([&] {
    if (firkin_status c = CheckOut(out)) return c;
    *out = new firkin_changes_options();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_changes_options_free(firkin_changes_options* o) { delete o; }

FIRKIN_API firkin_status firkin_changes_options_set_batch_markers(firkin_changes_options* o,
                                                                  bool v) {
  return Guard([&] {
    if (o == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL");
    o->batch_markers = v;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_changes_options_get_batch_markers(
    const firkin_changes_options* o, bool* out) {
  return Guard([&] {
    if (o == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "options handle is NULL");
    if (firkin_status c = CheckOut(out)) return c;
    *out = o->batch_markers;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_changes_open(firkin_db* db, uint64_t since_seq,
                                             const firkin_changes_options* opts,
                                             firkin_changes** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    const bool markers = opts == nullptr || opts->batch_markers;
    auto c = std::make_unique<firkin_changes>();
    c->db = db->db;
    c->cursor = std::make_unique<firkin::ChangeCursor>(db->db.get(), since_seq, markers);
    firkin::Status s = c->cursor->Init();
    if (!s.ok()) return Done(s);
    *out = c.release();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_changes_free(firkin_changes* c) {
  if (c == nullptr) return;
  c->cursor.reset();
  delete c;
}

FIRKIN_API bool firkin_changes_valid(const firkin_changes* c) {
  return c != nullptr && c->cursor->Valid();
}

FIRKIN_API firkin_status firkin_changes_next(firkin_changes* c) {
  return Guard([&] {
    if (c == nullptr) return NullCursor();
    c->cursor->Next();
    return Done(c->cursor->status());
  });
}

FIRKIN_API firkin_status firkin_changes_wait(firkin_changes* c, uint32_t timeout_ms) {
  return Guard([&] {
    if (c == nullptr) return NullCursor();
    return Done(c->cursor->Wait(timeout_ms));
  });
}

FIRKIN_API firkin_change_type firkin_changes_type(const firkin_changes* c) {
  if (c == nullptr || !c->cursor->Valid()) return static_cast<firkin_change_type>(0);
  return static_cast<firkin_change_type>(static_cast<int>(c->cursor->current().type));
}

FIRKIN_API uint64_t firkin_changes_seq(const firkin_changes* c) {
  if (c == nullptr || !c->cursor->Valid()) return 0;
  return c->cursor->current().seq;
}

FIRKIN_API uint64_t firkin_changes_position(const firkin_changes* c) {
  if (c == nullptr) return 0;
  return c->cursor->position();
}

FIRKIN_API const char* firkin_changes_namespace(const firkin_changes* c) {
  if (c == nullptr || !c->cursor->Valid()) return nullptr;
  const std::string_view n = c->cursor->current().ns_name;
  // Views of names point into std::string storage (NUL-terminated).
  return n.data() == nullptr ? "" : n.data();
}

FIRKIN_API firkin_status firkin_changes_key(const firkin_changes* c, const void** key,
                                            size_t* key_len) {
  return Guard([&] {
    if (c == nullptr) return NullCursor();
    if (key == nullptr || key_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (!c->cursor->Valid()) return NotValid();
    *key = c->cursor->current().key.data();
    *key_len = c->cursor->current().key.size();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_changes_value(const firkin_changes* c, const void** val,
                                              size_t* val_len) {
  return Guard([&] {
    if (c == nullptr) return NullCursor();
    if (val == nullptr || val_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (!c->cursor->Valid()) return NotValid();
    std::string_view v;  // (a compressed value is decoded now)
    firkin::Status s = c->cursor->Value(&v);
    if (!s.ok()) return Done(s);
    *val = v.data();
    *val_len = v.size();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_changes_status(const firkin_changes* c) {
  return Guard([&] {
    if (c == nullptr) return NullCursor();
    return Done(c->cursor->status());
  });
}

FIRKIN_API firkin_status firkin_changes_next_n(firkin_changes* c, void* buf, size_t cap,
                                               size_t* used, size_t* count) {
  return Guard([&] {
    if (c == nullptr) return NullCursor();
    if (used == nullptr || count == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (firkin_status s = CheckBytes(buf, cap, "buffer")) return s;
    *used = 0;
    *count = 0;
    firkin::ChangeCursor& cur = *c->cursor;
    if (!cur.Valid()) cur.Next();  // look for newly published changes
    char* out = static_cast<char*>(buf);
    size_t pos = 0, n = 0;
    while (cur.Valid()) {
      const firkin::Change& ch = cur.current();
      std::string_view value;  // (a compressed value is decoded now)
      if (firkin::Status s = cur.Value(&value); !s.ok()) {
        *used = pos;
        *count = n;
        return Done(s);
      }
      const size_t need = kEntryHeader + ch.ns_name.size() + ch.key.size() + value.size();
      if (pos + need > cap) {
        if (n == 0) {
          *used = need;
          return Fail(FIRKIN_E_BUFFER_TOO_SMALL,
                      "the next change needs " + std::to_string(need) + " bytes");
        }
        break;
      }
      char* e = out + pos;
      firkin::EncodeU32(e, static_cast<uint32_t>(ch.type));
      firkin::EncodeU32(e + 4, static_cast<uint32_t>(ch.ns_name.size()));
      firkin::EncodeU64(e + 8, ch.seq);
      firkin::EncodeU32(e + 16, static_cast<uint32_t>(ch.key.size()));
      firkin::EncodeU32(e + 20, static_cast<uint32_t>(value.size()));
      e += kEntryHeader;
      if (!ch.ns_name.empty()) std::memcpy(e, ch.ns_name.data(), ch.ns_name.size());
      e += ch.ns_name.size();
      if (!ch.key.empty()) std::memcpy(e, ch.key.data(), ch.key.size());
      e += ch.key.size();
      if (!value.empty()) std::memcpy(e, value.data(), value.size());
      pos += need;
      n++;
      cur.Next();
    }
    *used = pos;
    *count = n;
    return Done(cur.status());
  });
}

FIRKIN_API firkin_status firkin_changes_oldest_seq(firkin_db* db, uint64_t* out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = db->db->OldestChangeSeq();
    return FIRKIN_OK;
  });
}

}  // extern "C"
