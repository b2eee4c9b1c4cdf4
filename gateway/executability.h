#ifndef RELAY_GATEWAY_EXECUTABILITY_H_
#define RELAY_GATEWAY_EXECUTABILITY_H_

#include <string>

#include "relay/v1/common.pb.h"

namespace relay::gateway {

// What a print job asks of a device.
struct JobRequirements {
  // MIME type of the document; empty: any.
  std::string content_type;
  relay::v1::PrintOptions options;
};

// Related design 3, "hold until executable": can `device` execute a job with
// `requirements` now? Returns an empty string if it can, otherwise the reason
// it cannot, phrased for the person who submitted the job (it becomes the
// job's HELD reason), e.g. "device mfp-203 is out of paper".
//
// The checks, in order (the first that fails is the reason):
//   - the device is OFFLINE (or did not answer: callers pass OFFLINE);
//   - PAPER_OUT, TONER_EMPTY;
//   - BUSY and it does not accept queued jobs (Capabilities.accepts_queued_jobs);
//   - the document's format is not among Capabilities.formats (an empty
//     formats list accepts every format; "application/octet-stream" is raw
//     data any device listing it accepts);
//   - the job asks for colour or duplex and the device lacks it.
// Pure: no I/O, no clock.
std::string CheckExecutable(const relay::v1::DeviceInfo& device,
                            const JobRequirements& requirements);

}  // namespace relay::gateway

#endif  // RELAY_GATEWAY_EXECUTABILITY_H_
