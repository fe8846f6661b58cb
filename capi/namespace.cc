// Namespaces and firkin_count.
#include "capi/internal.h"

using namespace firkin::capi;

namespace {

firkin_status CheckName(const char* name) {
  if (name == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "namespace name is NULL");
  return FIRKIN_OK;
}

firkin_status NewHandle(firkin_db* db, std::shared_ptr<firkin::NamespaceInfo> info,
                        firkin_ns** out) {
  *out = new firkin_ns{db->db, std::move(info)};
  return FIRKIN_OK;
}

}  // namespace

extern "C" {

FIRKIN_API firkin_status firkin_ns_open(firkin_db* db, const char* name, bool create,
                                        firkin_ns** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckName(name)) return c;
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    firkin::Status v = firkin::NamespaceTable::ValidateName(name);
    if (!v.ok()) return Done(v);
    if (auto info = db->db->namespaces().Find(name)) return NewHandle(db, std::move(info), out);
    if (!create) {
      return Fail(FIRKIN_E_NAMESPACE_NOT_FOUND,
                  std::string("namespace '") + name + "' does not exist");
    }
    std::shared_ptr<firkin::NamespaceInfo> info;
    firkin::Status s = db->db->CreateNamespace(name, /*exist_ok=*/true, &info);
    if (!s.ok()) return Done(s);
    return NewHandle(db, std::move(info), out);
  });
}

FIRKIN_API firkin_status firkin_ns_create(firkin_db* db, const char* name, firkin_ns** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckName(name)) return c;
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    *out = nullptr;
    std::shared_ptr<firkin::NamespaceInfo> info;
    firkin::Status s = db->db->CreateNamespace(name, /*exist_ok=*/false, &info);
    if (!s.ok()) return Done(s);
    return NewHandle(db, std::move(info), out);
  });
}

FIRKIN_API firkin_status firkin_ns_drop(firkin_db* db, const char* name) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckName(name)) return c;
    return Done(db->db->DropNamespace(name));
  });
}

FIRKIN_API firkin_status firkin_ns_list(firkin_db* db, char** out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (out == nullptr) return Fail(FIRKIN_E_INVALID_ARGUMENT, "out pointer is NULL");
    std::string s;
    for (const auto& info : db->db->namespaces().List()) s += info->name + "\n";
    s.push_back('\0');
    *out = static_cast<char*>(CopyOut(s));
    return FIRKIN_OK;
  });
}

FIRKIN_API const char* firkin_ns_name(const firkin_ns* ns) {
  return ns == nullptr ? nullptr : ns->info->name.c_str();
}

FIRKIN_API void firkin_ns_close(firkin_ns* ns) { delete ns; }

FIRKIN_API firkin_status firkin_count(firkin_db* db, const firkin_ns* ns, uint64_t* out) {
  return Guard([&] {
    if (firkin_status c = CheckDb(db)) return c;
    if (firkin_status c = CheckOut(out)) return c;
    Target t;
    if (firkin_status c = Bind(db, ns, nullptr, &t)) return c;
    *out = db->db->CountKeys(*t.ns);
    return FIRKIN_OK;
  });
}

}  // extern "C"
