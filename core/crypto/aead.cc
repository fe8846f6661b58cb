// AES-256-GCM over OpenSSL's EVP interface (see aead.h).
#include "core/crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <cstring>
#include <new>

#include "core/crypto/nonce.h"

namespace firkin {

// One pair of keyed contexts (encrypt, decrypt), created on first use. busy is
// taken with an exchange and released with a store, so a slot is used by one
// thread at a time.
struct Aead::Slot {
  std::atomic<bool> busy{false};
  EVP_CIPHER_CTX* enc = nullptr;
  EVP_CIPHER_CTX* dec = nullptr;
};

namespace {

// Each thread's first probe position: threads get consecutive slots.
size_t ThreadHint() {
  static std::atomic<size_t> next{0};
  thread_local size_t hint = next.fetch_add(1, std::memory_order_relaxed);
  return hint;
}

// A context keyed for AES-256-GCM with a 12-byte IV, for encrypting or
// decrypting; nullptr on failure.
EVP_CIPHER_CTX* NewKeyedCtx(const uint8_t* key, bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return nullptr;
  int ok = encrypt ? EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr)
                   : EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
  ok = ok && (encrypt ? EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, nullptr)
                      : EVP_DecryptInit_ex(ctx, nullptr, nullptr, key, nullptr));
  if (!ok) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// Feeds in[0..n) through Update in chunks that fit an int.
bool UpdateAll(EVP_CIPHER_CTX* ctx, bool encrypt, const char* in, size_t n, char* out) {
  constexpr size_t kChunk = size_t{1} << 30;
  while (n > 0) {
    const int len = static_cast<int>(n < kChunk ? n : kChunk);
    int outl = 0;
    const auto* i = reinterpret_cast<const unsigned char*>(in);
    auto* o = reinterpret_cast<unsigned char*>(out);
    if (!(encrypt ? EVP_EncryptUpdate(ctx, o, &outl, i, len)
                  : EVP_DecryptUpdate(ctx, o, &outl, i, len)) ||
        outl != len) {
      return false;
    }
    in += len;
    out += len;
    n -= static_cast<size_t>(len);
  }
  return true;
}

bool AddAad(EVP_CIPHER_CTX* ctx, bool encrypt, std::string_view aad) {
  const auto* p = reinterpret_cast<const unsigned char*>(aad.data());
  size_t n = aad.size();
  while (n > 0) {
    const int len = static_cast<int>(n < (size_t{1} << 30) ? n : (size_t{1} << 30));
    int outl = 0;
    if (!(encrypt ? EVP_EncryptUpdate(ctx, nullptr, &outl, p, len)
                  : EVP_DecryptUpdate(ctx, nullptr, &outl, p, len))) {
      return false;
    }
    p += len;
    n -= static_cast<size_t>(len);
  }
  return true;
}

}  // namespace

Status RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const int len = static_cast<int>(n < (size_t{1} << 20) ? n : (size_t{1} << 20));
    if (RAND_bytes(p, len) != 1) return Status::Internal("the OS random generator failed");
    p += len;
    n -= static_cast<size_t>(len);
  }
  return Status::OK();
}

Aead::Aead() : slots_(new Slot[kSlots]) {}

Aead::~Aead() {
  for (size_t i = 0; i < kSlots; i++) {
    EVP_CIPHER_CTX_free(slots_[i].enc);  // frees and wipes the key schedule
    EVP_CIPHER_CTX_free(slots_[i].dec);
  }
  OPENSSL_cleanse(key_, sizeof(key_));
  OPENSSL_cleanse(mac_key_, sizeof(mac_key_));
}

std::unique_ptr<Aead> Aead::Create(const uint8_t key[kKeySize]) {
  std::unique_ptr<Aead> a(new (std::nothrow) Aead());
  if (a == nullptr || !a->Init(key)) return nullptr;
  return a;
}

bool Aead::Init(const uint8_t key[kKeySize]) {
  std::memcpy(key_, key, kKeySize);
  // Mac's key: a PRF of the data key under its own label (key separation:
  // the data key itself only ever keys AES-GCM).
  static constexpr char kMacLabel[] = "firkin header MAC key 1";
  unsigned int mlen = 0;
  if (HMAC(EVP_sha256(), key_, kKeySize, reinterpret_cast<const unsigned char*>(kMacLabel),
           sizeof(kMacLabel) - 1, mac_key_, &mlen) == nullptr ||
      mlen != sizeof(mac_key_)) {
    return false;
  }
  // Set up slot 0 now, so a broken libcrypto shows at Create, not at Seal.
  slots_[0].enc = NewKeyedCtx(key_, true);
  slots_[0].dec = NewKeyedCtx(key_, false);
  return slots_[0].enc != nullptr && slots_[0].dec != nullptr;
}

Aead::Slot* Aead::Acquire() const {
  const size_t start = ThreadHint();
  for (size_t i = 0; i < kSlots; i++) {
    Slot* s = &slots_[(start + i) % kSlots];
    if (!s->busy.load(std::memory_order_relaxed) &&
        !s->busy.exchange(true, std::memory_order_acquire)) {
      return s;
    }
  }
  return nullptr;  // more than kSlots threads at once: the caller uses a temporary
}

void Aead::Release(Slot* s) const {
  if (s != nullptr) s->busy.store(false, std::memory_order_release);
}

struct Aead::Lease {
  const Aead* owner;
  Slot* slot;
  EVP_CIPHER_CTX* ctx;
  Lease(const Aead* o, Slot* s, EVP_CIPHER_CTX* c) : owner(o), slot(s), ctx(c) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (slot != nullptr) {
      owner->Release(slot);
    } else {
      EVP_CIPHER_CTX_free(ctx);
    }
  }
};

Aead::Lease Aead::Borrow(bool encrypt) const {
  Slot* s = Acquire();
  EVP_CIPHER_CTX* ctx = nullptr;
  if (s != nullptr) {
    EVP_CIPHER_CTX*& own = encrypt ? s->enc : s->dec;
    if (own == nullptr) own = NewKeyedCtx(key_, encrypt);
    ctx = own;
  } else {
    ctx = NewKeyedCtx(key_, encrypt);
  }
  if (ctx == nullptr) {
    Release(s);
    throw std::bad_alloc();
  }
  return Lease(this, s, ctx);
}

void Aead::Seal(const uint8_t nonce[kNonceSize], std::string_view aad, const char* in, size_t n,
                char* out) const {
  bool ok;
  {
    Lease l = Borrow(true);
    ok = EVP_EncryptInit_ex(l.ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
         AddAad(l.ctx, true, aad) && UpdateAll(l.ctx, true, in, n, out);
    int outl = 0;
    ok = ok && EVP_EncryptFinal_ex(l.ctx, reinterpret_cast<unsigned char*>(out + n), &outl) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(l.ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, out + n) == 1;
  }
  // With a valid keyed context GCM encryption cannot fail; if libcrypto says
  // otherwise, nothing sealed may be written.
  if (!ok) throw std::bad_alloc();
}

bool Aead::Open(const uint8_t nonce[kNonceSize], std::string_view aad, const char* in, size_t n,
                char* out) const {
  if (n < kTagSize) return false;
  const size_t m = n - kTagSize;
  // The tag is read before decrypting, as in and out may overlap.
  unsigned char tag[kTagSize];
  std::memcpy(tag, in + m, kTagSize);
  bool ok;
  {
    Lease l = Borrow(false);
    ok = EVP_DecryptInit_ex(l.ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
         AddAad(l.ctx, false, aad) && UpdateAll(l.ctx, false, in, m, out) &&
         EVP_CIPHER_CTX_ctrl(l.ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) == 1;
    int outl = 0;
    unsigned char fin[16];
    ok = ok && EVP_DecryptFinal_ex(l.ctx, fin, &outl) == 1;
  }
  if (!ok && m > 0) OPENSSL_cleanse(out, m);
  return ok;
}

bool Aead::Verify(const uint8_t nonce[kNonceSize], std::string_view aad, const char* in,
                  size_t n, char* prefix, size_t prefix_n) const {
  if (n < kTagSize || prefix_n > n - kTagSize) return false;
  const size_t m = n - kTagSize;
  unsigned char tag[kTagSize];
  std::memcpy(tag, in + m, kTagSize);
  alignas(16) char buf[4096];
  bool ok;
  {
    Lease l = Borrow(false);
    ok = EVP_DecryptInit_ex(l.ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
         AddAad(l.ctx, false, aad);
    for (size_t done = 0; ok && done < m;) {
      const size_t c = m - done < sizeof(buf) ? m - done : sizeof(buf);
      ok = UpdateAll(l.ctx, false, in + done, c, buf);
      if (ok && done < prefix_n) {
        std::memcpy(prefix + done, buf, prefix_n - done < c ? prefix_n - done : c);
      }
      done += c;
    }
    ok = ok && EVP_CIPHER_CTX_ctrl(l.ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) == 1;
    int outl = 0;
    unsigned char fin[16];
    ok = ok && EVP_DecryptFinal_ex(l.ctx, fin, &outl) == 1;
  }
  if (m > 0) OPENSSL_cleanse(buf, m < sizeof(buf) ? m : sizeof(buf));
  if (!ok && prefix_n > 0) OPENSSL_cleanse(prefix, prefix_n);
  return ok;
}

void Aead::Peek(const uint8_t nonce[kNonceSize], const char* in, size_t n, char* out) const {
  // GCM is counter mode plus GHASH: decrypting without feeding additional
  // data and without the final tag check yields the plaintext prefix.
  bool ok;
  {
    Lease l = Borrow(false);
    ok = EVP_DecryptInit_ex(l.ctx, nullptr, nullptr, nullptr, nonce) == 1 &&
         UpdateAll(l.ctx, false, in, n, out);
  }
  if (!ok) throw std::bad_alloc();
}


void Aead::Mac(std::string_view msg, uint8_t out[kMacSize]) const {
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), mac_key_, sizeof(mac_key_),
           reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), full, &n) == nullptr ||
      n < kMacSize) {
    // Only out of memory (libcrypto's fetch of HMAC allocates): thrown, as
    // Seal does, so that the caller's call fails with NO_MEMORY. Until
    // 2026-11-29 it wrote a MAC of all ones, which reads as
    // forged: a segment sealed then (a roll, firkin_compact's seal) kept a
    // seal clock that firkin_verify reported as failing its authentication,
    // and every backup (verified by default) failed with CORRUPTION until
    // compaction retired the segment; and a check that could not compute
    // the MAC called an authentic value forged (oom_test sweep_enc_compact).
    OPENSSL_cleanse(full, sizeof(full));
    throw std::bad_alloc();
  }
  std::memcpy(out, full, kMacSize);
  OPENSSL_cleanse(full, sizeof(full));
}

bool Aead::MacMatches(std::string_view msg, const uint8_t* mac) const {
  uint8_t want[kMacSize];
  Mac(msg, want);  // (throws std::bad_alloc when it cannot tell)
  const bool match = CRYPTO_memcmp(want, mac, kMacSize) == 0;
  OPENSSL_cleanse(want, sizeof(want));
  return match;
}

}  // namespace firkin
