// Iterators, with the batched firkin_iter_next_n for bindings.
#include <cstring>

#include "capi/internal.h"
#include "core/util/coding.h"

using namespace firkin::capi;

namespace {
firkin_status NullIter() { return Fail(FIRKIN_E_INVALID_ARGUMENT, "iterator handle is NULL"); }
firkin_status NotValid() {
  ClearLastError();  // a bare not-found leaves no message
  return FIRKIN_E_NOT_FOUND;
}
}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_iter_new(firkin_db* db, const firkin_snapshot* snap,
                                         const firkin_ns* ns, firkin_iter** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    Target t;
    if (firkin_status c = Bind(db, ns, snap, &t)) return c;
    // The iterator registers its own snapshot so that its history is kept
    // even if the caller frees theirs first.
    auto it = std::make_unique<firkin_iter>();
    it->db = db->db;
    firkin::Status s = db->db->AcquireSnapshot(t.snap, &it->snap);
    if (!s.ok()) return Done(s);
    it->registered = true;  // (released by its destructor, on any way out)
    std::shared_ptr<firkin::NamespaceInfo> nsinfo =
        ns == nullptr ? db->db->namespaces().Default() : ns->info;
    s = db->db->NewIterator(it->snap, std::move(nsinfo), &it->it);
    if (!s.ok()) return Done(s);
    *out = it.release();
    return FIRKIN_OK;
  });
}

FIRKIN_API void firkin_iter_free(firkin_iter* it) {
  delete it;  // (its destructor releases the snapshot)
}

FIRKIN_API bool firkin_iter_valid(const firkin_iter* it) {
  return it != nullptr && it->Valid();
}

FIRKIN_API firkin_status firkin_iter_next(firkin_iter* it) {
  return Guard([&] {
    if (it == nullptr) return NullIter();
    if (!it->Valid()) return NotValid();
    it->Next();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_iter_key(const firkin_iter* it, const void** key,
                                         size_t* key_len) {
  return Guard([&] {
    if (it == nullptr) return NullIter();
    if (key == nullptr || key_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (!it->Valid()) return NotValid();
    *key = it->Key().data();
    *key_len = it->Key().size();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_iter_value(const firkin_iter* it, const void** val,
                                           size_t* val_len) {
  return Guard([&] {
    if (it == nullptr) return NullIter();
    if (val == nullptr || val_len == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (!it->Valid()) return NotValid();
    *val = it->Value().data();
    *val_len = it->Value().size();
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_iter_status(const firkin_iter* it) {
  return Guard([&] {
    if (it == nullptr) return NullIter();
    return Done(it->Status());
  });
}

FIRKIN_API firkin_status firkin_iter_next_n(firkin_iter* it, void* buf, size_t cap, size_t* used,
                                            size_t* count) {
  return Guard([&] {
    if (it == nullptr) return NullIter();
    if (used == nullptr || count == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    }
    if (firkin_status c = CheckBytes(buf, cap, "buffer")) return c;
    *used = 0;
    *count = 0;
    char* out = static_cast<char*>(buf);
    size_t pos = 0, n = 0;
    while (it->Valid()) {
      std::string_view k = it->Key(), v = it->Value();
      size_t need = 8 + k.size() + v.size();
      if (pos + need > cap) {
        if (n == 0) {
          *used = need;
          return Fail(FIRKIN_E_BUFFER_TOO_SMALL,
                      "the next entry needs " + std::to_string(need) + " bytes");
        }
        break;
      }
      firkin::EncodeU32(out + pos, static_cast<uint32_t>(k.size()));
      firkin::EncodeU32(out + pos + 4, static_cast<uint32_t>(v.size()));
      std::memcpy(out + pos + 8, k.data(), k.size());
      if (!v.empty()) std::memcpy(out + pos + 8 + k.size(), v.data(), v.size());
      pos += need;
      n++;
      *used = pos;  // (entries in buf so far, also if the step fails)
      *count = n;
      it->Next();   // (a std::bad_alloc: NO_MEMORY, with them, and the iterator failed)
    }
    *used = pos;
    *count = n;
    return Done(it->Status());
  });
}

}  // extern "C"
