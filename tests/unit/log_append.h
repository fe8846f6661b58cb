// AppendPublished: for unit tests that drive a LogWriter directly. Reserves
// `bytes` of log (a roll when they do not fit), writes nothing into them,
// and publishes them, all under an epoch guard, as a writer does; returns the
// reservation (its segment, offset and sequence number).
//
// Thread contract: as LogWriter::Reserve and Publish (any thread).
#ifndef FIRKIN_TESTS_UNIT_LOG_APPEND_H_
#define FIRKIN_TESTS_UNIT_LOG_APPEND_H_

#include <gtest/gtest.h>

#include <cstdint>

#include "core/log/log_writer.h"
#include "core/util/epoch.h"

namespace firkin {

inline LogWriter::Reservation AppendPublished(LogWriter& log, uint64_t bytes) {
  LogWriter::Reservation r;
  Epoch::Guard guard;  // (from before the reservation, as LogWriter::Reserve requires)
  EXPECT_TRUE(log.Reserve(bytes, &r).ok());
  log.Publish(r);
  return r;
}

}  // namespace firkin

#endif  // FIRKIN_TESTS_UNIT_LOG_APPEND_H_
