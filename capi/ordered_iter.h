// Internal to libfirkin: what the ordered iterator entry points
// (ordered.cc, and the transaction ones in txn.cc) share.
//
// Thread contract: plain functions.
#ifndef FIRKIN_CAPI_ORDERED_ITER_H_
#define FIRKIN_CAPI_ORDERED_ITER_H_

#include <memory>

#include "capi/internal.h"

namespace firkin::capi {

constexpr size_t kMaxRangeBound = 65535;

// Validates range bounds (NULL = none; NULL with a length is an error)
// and iterator flags.
firkin_status CheckRangeArgs(const void* start, size_t start_len, const void* end,
                             size_t end_len, uint32_t flags);
firkin::OrderedRange MakeRange(const void* start, size_t start_len, const void* end,
                               size_t end_len, uint32_t flags);
// Registers a snapshot at snap and makes an ordered iterator handle.
firkin_status NewOrderedIter(const std::shared_ptr<firkin::DB>& db, uint64_t snap,
                             std::shared_ptr<firkin::NamespaceInfo> ns,
                             const firkin::OrderedRange& range,
                             std::unique_ptr<firkin::TxnOverlay> overlay, firkin_iter** out);

}  // namespace firkin::capi

#endif  // FIRKIN_CAPI_ORDERED_ITER_H_
