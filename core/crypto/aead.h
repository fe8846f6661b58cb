// Aead: AES-256-GCM authenticated encryption under one 32-byte key, the one
// primitive every encrypted byte of a database goes through (records, the
// index checkpoint, the key file). 16-byte tag appended to the ciphertext,
// 12-byte nonce supplied by the caller (see core/crypto/nonce.h and
// docs/format.md, "Encryption", for why no nonce repeats under one key).
//
// Why OpenSSL's libcrypto and not libsodium: libsodium's AES-256-GCM needs
// AES-NI + PCLMUL and refuses to run on a CPU without them
// (crypto_aead_aes256gcm_is_available() == 0), so a database written on one
// machine could be unreadable on another; OpenSSL uses the hardware where it
// exists and falls back to a constant-time software AES/GHASH everywhere
// else. It is also already on every build machine (libssl-dev), maintained by
// Debian's security team, and FIPS-validated upstream.
//
// Thread contract: immutable after construction; Seal and Open may be called
// from any number of threads at once. The expanded key lives in a fixed array
// of EVP contexts owned by this object ("thread-affine slots": each thread
// starts probing at its own slot, so in practice a thread reuses one context
// and pays only an IV reset per call); the contexts are freed, and the key
// schedule wiped, when the Aead is destroyed, not left in thread-locals.
#ifndef FIRKIN_CORE_CRYPTO_AEAD_H_
#define FIRKIN_CORE_CRYPTO_AEAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace firkin {

class Aead {
 public:
  static constexpr size_t kKeySize = 32, kTagSize = 16, kNonceSize = 12, kMacSize = 16;

  // An Aead for a 32-byte key. nullptr only if libcrypto cannot set up
  // AES-256-GCM at all (out of memory, or a crippled OpenSSL build).
  static std::unique_ptr<Aead> Create(const uint8_t key[kKeySize]);

  ~Aead();
  Aead(const Aead&) = delete;
  Aead& operator=(const Aead&) = delete;

  // Encrypts in[0..n) and authenticates it together with aad. out has
  // n + kTagSize bytes (ciphertext, then tag); in and out may be the same
  // buffer. Never fails for valid sizes (throws std::bad_alloc only if a
  // context cannot be allocated).
  void Seal(const uint8_t nonce[kNonceSize], std::string_view aad, const char* in, size_t n,
            char* out) const;

  // Decrypts in[0..n), n including the tag, into out (n - kTagSize bytes;
  // in and out may be the same buffer). false = authentication failed (wrong
  // key, wrong nonce or aad, a changed byte, n < kTagSize); out then holds no
  // usable plaintext (it is zeroed).
  bool Open(const uint8_t nonce[kNonceSize], std::string_view aad, const char* in, size_t n,
            char* out) const;

  // Whether in[0..n), n including the tag, is authentic under nonce and aad
  // (what Open would say), without keeping the plaintext: it goes through a
  // small buffer on the stack, wiped before the return, but for its first
  // `prefix_n` bytes, copied to `prefix` (a sealed record's key; zeroed if
  // the tag fails). For checks that need the verdict and at most a prefix
  // (recovery authenticates every sealed record it replays, and hashes its
  // key), with no allocation however long the message.
  bool Verify(const uint8_t nonce[kNonceSize], std::string_view aad, const char* in, size_t n,
              char* prefix = nullptr, size_t prefix_n = 0) const;

  // Decrypts the first n bytes of a message sealed with nonce (in: its
  // ciphertext, at least n bytes) into out WITHOUT authenticating them: for
  // reads that need only a prefix (a record's key, to compare or order it)
  // and must not pay for the whole message. What Peek returns is trusted
  // only as far as the caller's own checks go (a record checksum); anything
  // handed to a user as data must come from Open.
  void Peek(const uint8_t nonce[kNonceSize], const char* in, size_t n, char* out) const;

  // A keyed MAC of msg: HMAC-SHA256 truncated to kMacSize bytes, under a
  // key derived from this Aead's key at Create (HMAC-SHA256(key, "firkin
  // header MAC key 1")), never the key itself. Nothing is sealed and no
  // nonce is used, so it can never collide with a record's, the
  // checkpoint's or KEYS' GCM nonce. For the few values that are stored in
  // the clear yet must not be forged by someone without the key: segment
  // seal clocks and compaction's done markers (docs/format.md,
  // "Authenticated header values"). Callers start msg with a distinct
  // domain string per kind of value. Same thread contract as Seal. Throws
  // std::bad_alloc when libcrypto cannot compute it (out of memory).
  void Mac(std::string_view msg, uint8_t out[kMacSize]) const;
  // Whether mac (kMacSize bytes) is msg's MAC; compared in constant time.
  // Throws std::bad_alloc as Mac does (never a false "forged").
  bool MacMatches(std::string_view msg, const uint8_t* mac) const;

 private:
  struct Slot;
  struct Lease;  // a keyed context borrowed for one call (aead.cc)
  static constexpr size_t kSlots = 64;

  Aead();
  bool Init(const uint8_t key[kKeySize]);
  Slot* Acquire() const;
  void Release(Slot* s) const;
  // A keyed context for one call: a free slot's, else a temporary one;
  // given back when the Lease goes. Throws std::bad_alloc if none can be made.
  Lease Borrow(bool encrypt) const;

  std::unique_ptr<Slot[]> slots_;
  uint8_t key_[kKeySize];  // for contexts set up lazily; wiped on destruction
  uint8_t mac_key_[32];    // Mac's key, derived from key_; wiped on destruction
};

}  // namespace firkin

#endif  // FIRKIN_CORE_CRYPTO_AEAD_H_
