// Ordered namespaces (issue 12, item 1): firkin_ns_create_v2, firkin_ns_flags,
// the range / prefix iterators and firkin_iter_seek.
#include "capi/internal.h"
#include "capi/ordered_iter.h"

using namespace firkin::capi;

namespace firkin::capi {

firkin_status CheckRangeArgs(const void* start, size_t start_len, const void* end,
                             size_t end_len, uint32_t flags) {
  if (start == nullptr && start_len != 0) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "range start is NULL with a non-zero length");
  }
  if (end == nullptr && end_len != 0) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "range end is NULL with a non-zero length");
  }
  if (start_len > kMaxRangeBound || end_len > kMaxRangeBound) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "range bound longer than the longest key (65535 bytes)");
  }
  if ((flags & ~static_cast<uint32_t>(FIRKIN_ITER_REVERSE)) != 0) {
    return Fail(FIRKIN_E_INVALID_ARGUMENT, "unknown iterator flags " + std::to_string(flags));
  }
  return FIRKIN_OK;
}

firkin::OrderedRange MakeRange(const void* start, size_t start_len, const void* end,
                               size_t end_len, uint32_t flags) {
  firkin::OrderedRange r;
  r.reverse = (flags & FIRKIN_ITER_REVERSE) != 0;
  // An empty bound is no bound, whatever its pointer: (p, 0) and (NULL, 0)
  // are the same bytes (firkin.h, convention 2), and no key is empty. An
  // empty end with a non-NULL pointer gave an empty range until the review
  // after the fifth (a C++ std::string() or a zero-length buffer).
  if (start_len != 0) {
    r.has_lo = true;
    r.lo.assign(static_cast<const char*>(start), start_len);
  }
  if (end_len != 0) {
    r.has_hi = true;
    r.hi.assign(static_cast<const char*>(end), end_len);
  }
  return r;
}

firkin_status NewOrderedIter(const std::shared_ptr<firkin::DB>& db, uint64_t snap,
                             std::shared_ptr<firkin::NamespaceInfo> ns,
                             const firkin::OrderedRange& range,
                             std::unique_ptr<firkin::TxnOverlay> overlay, firkin_iter** out) {
  // The iterator registers its own snapshot so that its history is kept
  // even if the caller frees theirs (or ends the transaction) first.
  auto it = std::make_unique<firkin_iter>();
  it->db = db;
  firkin::Status s = db->AcquireSnapshot(snap, &it->snap);
  if (!s.ok()) return Done(s);
  it->registered = true;  // (released by its destructor, on any way out)
  s = db->NewOrderedIterator(it->snap, std::move(ns), range, std::move(overlay), &it->oit);
  if (!s.ok()) return Done(s);
  *out = it.release();
  return FIRKIN_OK;
}

}  // namespace firkin::capi

namespace {

firkin_status DbRangeIter(firkin_db* db, const firkin_snapshot* snap, const firkin_ns* ns,
                          const firkin::OrderedRange& range, firkin_iter** out) {
  Target t;
  if (firkin_status c = Bind(db, ns, snap, &t)) return c;
  std::shared_ptr<firkin::NamespaceInfo> info =
      ns == nullptr ? db->db->namespaces().Default() : ns->info;
  return NewOrderedIter(db->db, t.snap, std::move(info), range, nullptr, out);
}

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_ns_create_v2(firkin_db* db, const char* name, uint32_t flags,
                                             firkin_ns** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (name == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "namespace name is NULL");
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    if ((flags & ~static_cast<uint32_t>(FIRKIN_NS_ORDERED)) != 0) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "unknown namespace flags " + std::to_string(flags));
    }
    std::shared_ptr<firkin::NamespaceInfo> info;
    firkin::Status s = db->db->CreateNamespace(
        name, /*exist_ok=*/false, &info, (flags & FIRKIN_NS_ORDERED) ? firkin::kNsFlagOrdered : 0);
    if (!s.ok()) return Done(s);
    *out = new firkin_ns{db->db, std::move(info)};
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_ns_flags(const firkin_ns* ns, uint32_t* out) {
  return Guard([&] {
    if (ns == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "namespace handle is NULL");
    if (firkin_status c = CheckOut(out)) return c;
    *out = ns->info->is_ordered() ? FIRKIN_NS_ORDERED : 0;
    return FIRKIN_OK;
  });
}

FIRKIN_API firkin_status firkin_range_iter_new(firkin_db* db, const firkin_snapshot* snap,
                                               const firkin_ns* ns, const void* start,
                                               size_t start_len, const void* end,
                                               size_t end_len, uint32_t flags,
                                               firkin_iter** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    if (firkin_status c = CheckRangeArgs(start, start_len, end, end_len, flags)) return c;
    return DbRangeIter(db, snap, ns, MakeRange(start, start_len, end, end_len, flags), out);
  });
}

FIRKIN_API firkin_status firkin_prefix_iter_new(firkin_db* db, const firkin_snapshot* snap,
                                                const firkin_ns* ns, const void* prefix,
                                                size_t prefix_len, uint32_t flags,
                                                firkin_iter** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    *out = nullptr;
    if (firkin_status c = CheckRangeArgs(prefix, prefix_len, nullptr, 0, flags)) return c;
    return DbRangeIter(
        db, snap, ns,
        firkin::OrderedRange::Prefix(Bytes(prefix, prefix_len), (flags & FIRKIN_ITER_REVERSE) != 0),
        out);
  });
}

FIRKIN_API firkin_status firkin_iter_seek(firkin_iter* it, const void* key, size_t key_len) {
  return Guard([&] {
    if (it == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "iterator handle is NULL");
    if (key == nullptr && key_len != 0) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "seek key is NULL with a non-zero length");
    }
    if (key_len > kMaxRangeBound) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT, "seek key longer than the longest key (65535 bytes)");
    }
    if (it->oit == nullptr) {
      return Fail(FIRKIN_E_INVALID_ARGUMENT,
                  "firkin_iter_seek needs an ordered iterator (firkin_range_iter_new on an "
                  "ordered namespace); this one iterates in hash order");
    }
    it->Seek(Bytes(key, key_len));
    return Done(it->Status());
  });
}

FIRKIN_API bool firkin_iter_is_ordered(const firkin_iter* it) {
  return it != nullptr && it->oit != nullptr;
}

}  // extern "C"
