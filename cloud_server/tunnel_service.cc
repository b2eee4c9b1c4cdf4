#include "cloud_server/tunnel_service.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cloud_server/reactor_refs.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/status_util.h"
#include "common/tls_config.h"

namespace relay::cloud {
namespace {

using relay::v1::TunnelDown;
using relay::v1::TunnelUp;

const char* FrameName(const TunnelUp& up) {
  switch (up.frame_case()) {
    case TunnelUp::kOpen: return "TunnelOpen";
    case TunnelUp::kData: return "DataChunk";
    case TunnelUp::kEnd: return "DataEnd";
    case TunnelUp::kProgress: return "JobProgress";
    case TunnelUp::kResult: return "TunnelResult";
    case TunnelUp::kBoxResult: return "BoxResult";
    case TunnelUp::FRAME_NOT_SET: return "an empty frame";
  }
  return "an unknown frame";
}

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

class TunnelReactor : public grpc::ServerBidiReactor<TunnelUp, TunnelDown>,
                      public ReactorRefs {
 public:
  TunnelReactor(const TunnelDeps& deps, std::string peer, PeerIdentity identity)
      : deps_(deps), peer_(std::move(peer)), identity_(std::move(identity)) {
    StartRead(&up_);
  }

  ~TunnelReactor() override {
    if (print_opened_) {
      // The tunnel of a job being printed ended: the job manager decides
      // whether the job must be dispatched again.
      JobManager* jobs = deps_.jobs;
      std::string job_id = claims_.access_id;
      bool recorded = outcome_recorded_;
      std::string why = end_reason_;
      deps_.store_executor->Post(
          [jobs, job_id, recorded, why] { jobs->ClosePrintTunnel(job_id, recorded, why); });
    }
    if (box_opened_ && !box_completed_ && deps_.boxes != nullptr) {
      deps_.boxes->Abandon(claims_.access_id, end_reason_);
    }
    // An unfinished scan's temporary file goes with `blob_`.
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    if (!ok) {
      switch (phase_) {
        case Phase::kAwaitOpen:
          FinishLocked(Invalid("tunnel closed before TunnelOpen"));
          break;
        case Phase::kPrintSending:
        case Phase::kPrintAwaitResult:
          FinishLocked(Invalid("tunnel closed before TunnelResult"));
          break;
        case Phase::kScanReceiving:
          FinishLocked(Invalid("tunnel closed before DataEnd"));
          break;
        case Phase::kBoxAwaitResult:
          FinishLocked(Invalid("tunnel closed before BoxResult"));
          break;
        default:
          break;  // A task in progress answers and finishes.
      }
      return;
    }
    switch (up_.frame_case()) {
      case TunnelUp::kOpen:
        if (phase_ != Phase::kAwaitOpen) break;
        HandleOpenLocked();
        return;
      case TunnelUp::kProgress:
        if (phase_ != Phase::kPrintSending && phase_ != Phase::kPrintAwaitResult) break;
        HandleProgressLocked();
        return;
      case TunnelUp::kResult:
        if (phase_ != Phase::kPrintSending && phase_ != Phase::kPrintAwaitResult) break;
        HandleResultLocked();
        return;
      case TunnelUp::kData:
        if (phase_ == Phase::kBoxAwaitResult) {
          HandleBoxChunkLocked();
          return;
        }
        if (phase_ != Phase::kScanReceiving) break;
        HandleChunkLocked();
        return;
      case TunnelUp::kEnd:
        if (phase_ == Phase::kBoxAwaitResult) {
          HandleBoxEndLocked();
          return;
        }
        if (phase_ != Phase::kScanReceiving) break;
        HandleEndLocked();
        return;
      case TunnelUp::kBoxResult:
        if (phase_ != Phase::kBoxAwaitResult) break;
        HandleBoxResultLocked();
        return;
      default:
        break;
    }
    FinishLocked(Invalid(absl::StrCat("unexpected ", FrameName(up_), " while ",
                                      PhaseName(phase_))));
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED,
                                "the gateway went away during a write"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "tunnel cancelled"));
  }

  void OnDone() override {
    LogInfo("event=tunnel_done job=%s gateway=%s device=%s direction=%s status=\"%s\"",
            claims_.access_id, claims_.gateway_id, claims_.device_id,
            relay::v1::Direction_Name(claims_.direction), end_reason_);
    Unref();
  }

 private:
  enum class Phase {
    kAwaitOpen,
    kOpening,
    kPrintSending,
    kPrintAwaitResult,
    kPrintRecording,
    kScanReceiving,
    kScanCommitting,
    kBoxAwaitResult,
    kClosing,
  };

  static const char* PhaseName(Phase phase) {
    switch (phase) {
      case Phase::kAwaitOpen: return "waiting for TunnelOpen";
      case Phase::kOpening: return "opening the tunnel";
      case Phase::kPrintSending: return "sending the document";
      case Phase::kPrintAwaitResult: return "waiting for TunnelResult";
      case Phase::kPrintRecording: return "recording the result";
      case Phase::kScanReceiving: return "receiving the scan";
      case Phase::kScanCommitting: return "storing the scan";
      case Phase::kBoxAwaitResult: return "waiting for BoxResult";
      case Phase::kClosing: return "closing";
    }
    return "?";
  }

  // --- Writes: one in flight, the rest queued -------------------------------

  void SendLocked(TunnelDown message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    queue_.push_back(std::move(message));
    PumpLocked();
  }

  // Sends `message`, then finishes the RPC with OK.
  void CloseLocked(TunnelDown message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    phase_ = Phase::kClosing;
    finish_after_writes_ = grpc::Status::OK;
    end_reason_ = "OK";
    SendLocked(std::move(message));
  }

  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (queue_.empty() && phase_ == Phase::kPrintSending && !finishing_) {
      if (!NextPrintFrameLocked()) return;
    }
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    if (finish_after_writes_.has_value()) {
      finished_ = true;
      Finish(*finish_after_writes_);
    }
  }

  // Ends the tunnel with `status` once the write in flight (if any) is done.
  // Queued messages are dropped. Called at most once effectively.
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_) return;
    finishing_ = true;
    if (!status.ok()) {
      end_reason_ = absl::StrCat(grpc::StatusCode(status.error_code()), ": ",
                                 status.error_message());
      if (status.error_code() != grpc::StatusCode::CANCELLED) {
        LogWarning("event=tunnel_failed job=%s gateway=%s device=%s peer=%s "
                   "code=%d error=\"%s\"",
                   claims_.access_id, claims_.gateway_id, claims_.device_id, peer_,
                   static_cast<int>(status.error_code()), status.error_message());
      }
    }
    queue_.clear();
    if (!finish_after_writes_.has_value() || !status.ok()) finish_after_writes_ = status;
    PumpLocked();
  }

  // --- Open ---------------------------------------------------------------

  void HandleOpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    open_ = up_.open();
    if (open_.direction() != relay::v1::DIRECTION_PRINT &&
        open_.direction() != relay::v1::DIRECTION_SCAN &&
        (open_.direction() != relay::v1::DIRECTION_BOX || deps_.boxes == nullptr)) {
      FinishLocked(Invalid("TunnelOpen.direction must be PRINT, SCAN or BOX"));
      return;
    }
    if (open_.job_id().empty() || open_.gateway_id().empty() ||
        open_.device_id().empty()) {
      FinishLocked(Invalid("TunnelOpen needs job_id, gateway_id and device_id"));
      return;
    }
    claims_.direction = open_.direction();
    claims_.access_id = open_.job_id();
    claims_.gateway_id = open_.gateway_id();
    claims_.device_id = open_.device_id();
    // The token is bound to a gateway; the certificate says which gateway is
    // calling. A token stolen from (or replayed by) another gateway stops here.
    absl::Status caller =
        CheckGatewayPeer(identity_, deps_.require_gateway_cert, open_.gateway_id());
    if (!caller.ok()) {
      FinishLocked(ToGrpcStatus(caller));
      return;
    }
    TunnelClaims expected = claims_;
    if (open_.direction() == relay::v1::DIRECTION_SCAN) {
      if (open_.size() <= 0) {
        FinishLocked(Invalid("TunnelOpen for a scan needs its size"));
        return;
      }
      expected.user_id = open_.user_id();
      expected.size = open_.size();
    }
    if (open_.direction() == relay::v1::DIRECTION_BOX) {
      if (open_.user_id().empty()) {
        FinishLocked(Invalid("TunnelOpen for a box request needs its user_id"));
        return;
      }
      expected.user_id = open_.user_id();
    }
    // HMAC verification is cheap CPU work: fine on a callback thread.
    absl::StatusOr<TunnelClaims> claims = deps_.signer->Verify(open_.tunnel_token(), expected);
    if (!claims.ok()) {
      FinishLocked(ToGrpcStatus(claims.status()));
      return;
    }
    claims_ = *claims;
    if (claims_.direction == relay::v1::DIRECTION_BOX) {
      // In memory, non-blocking: fine on a callback thread. Single use: a
      // replayed token finds its request opened or gone.
      absl::StatusOr<relay::v1::BoxRequest> box = deps_.boxes->OpenTunnel(claims_);
      if (!box.ok()) {
        FinishLocked(ToGrpcStatus(box.status()));
        return;
      }
      box_opened_ = true;
      box_request_ = *box;
      LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=BOX box=%s "
              "operation=%s",
              claims_.access_id, claims_.gateway_id, claims_.device_id, box->box_id(),
              relay::v1::BoxOperation_Name(box->operation()));
      phase_ = Phase::kBoxAwaitResult;
      TunnelDown accepted;
      *accepted.mutable_accepted()->mutable_box() = *box;
      SendLocked(std::move(accepted));
      StartRead(&up_);
      return;
    }
    phase_ = Phase::kOpening;
    Ref();
    if (claims_.direction == relay::v1::DIRECTION_PRINT) {
      deps_.store_executor->Post([this] {
        absl::StatusOr<PrintTicket> ticket = deps_.jobs->OpenPrintTunnel(claims_);
        {
          absl::MutexLock lock(&mu_);
          OnPrintOpenedLocked(std::move(ticket));
        }
        Unref();
      });
    } else {
      deps_.store_executor->Post([this] {
        absl::StatusOr<std::optional<StoredScan>> existing =
            deps_.library->AcceptScanTunnel(claims_);
        absl::StatusOr<std::unique_ptr<BlobWriter>> blob;
        if (existing.ok() && !existing->has_value()) blob = deps_.library->NewBlob();
        {
          absl::MutexLock lock(&mu_);
          OnScanAcceptedLocked(std::move(existing), std::move(blob));
        }
        Unref();
      });
    }
  }

  // --- Print --------------------------------------------------------------

  void OnPrintOpenedLocked(absl::StatusOr<PrintTicket> ticket)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ticket.ok() && !ticket->already_done) print_opened_ = true;
    if (finishing_) return;  // Cancelled meanwhile; the destructor requeues.
    if (!ticket.ok()) {
      FinishLocked(ToGrpcStatus(ticket.status()));
      return;
    }
    document_ = ticket->document.document;
    TunnelDown accepted;
    accepted.mutable_accepted()->set_size(document_.size());
    accepted.mutable_accepted()->set_document_name(document_.name());
    accepted.mutable_accepted()->set_content_type(document_.content_type());
    if (ticket->already_done) {
      LogInfo("event=tunnel_already_done job=%s gateway=%s device=%s", claims_.access_id,
              claims_.gateway_id, claims_.device_id);
      accepted.mutable_accepted()->set_already_done(true);
      SendLocked(std::move(accepted));
      TunnelDown closed;
      closed.mutable_closed();
      CloseLocked(std::move(closed));
      return;
    }
    LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=PRINT size=%d",
            claims_.access_id, claims_.gateway_id, claims_.device_id, document_.size());
    reader_ = std::move(ticket->reader);
    phase_ = Phase::kPrintSending;
    SendLocked(std::move(accepted));
    StartRead(&up_);
  }

  // Queues the next chunk, or DataEnd after the last one. Reading the
  // document here is a pread of at most kChunkBytes from the page cache: cheap
  // enough for a callback thread, and it keeps exactly one chunk in memory.
  bool NextPrintFrameLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    TunnelDown frame;
    if (sent_ < document_.size()) {
      relay::v1::DataChunk* chunk = frame.mutable_data();
      chunk->set_offset(sent_);
      int64_t want = std::min<int64_t>(TunnelService::kChunkBytes, document_.size() - sent_);
      absl::Status read = reader_->ReadAt(sent_, want, chunk->mutable_data());
      if (read.ok() && static_cast<int64_t>(chunk->data().size()) != want) {
        read = absl::DataLossError(
            absl::StrCat("document ", document_.document_id(), " is shorter than ",
                         document_.size(), " bytes on disk"));
      }
      if (!read.ok()) {
        FinishLocked(ToGrpcStatus(read));
        return false;
      }
      hash_.Update(chunk->data());
      sent_ += want;
    } else {
      std::string sha = hash_.FinishHex();
      if (sha != document_.sha256_hex()) {
        FinishLocked(grpc::Status(grpc::StatusCode::DATA_LOSS,
                                  absl::StrCat("document ", document_.document_id(),
                                               " is corrupted on disk")));
        return false;
      }
      frame.mutable_end()->set_total_size(document_.size());
      frame.mutable_end()->set_sha256_hex(sha);
      phase_ = Phase::kPrintAwaitResult;
      reader_.reset();
    }
    queue_.push_back(std::move(frame));
    return true;
  }

  void HandleProgressLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    relay::v1::JobProgress progress = up_.progress();
    if (!progress.job_id().empty() && progress.job_id() != claims_.access_id) {
      FinishLocked(Invalid(absl::StrCat("JobProgress for job ", progress.job_id(),
                                        " in the tunnel of job ", claims_.access_id)));
      return;
    }
    progress.set_job_id(claims_.access_id);
    progress.set_gateway_id(claims_.gateway_id);
    progress.set_device_id(claims_.device_id);
    JobManager* jobs = deps_.jobs;
    deps_.store_executor->Post([jobs, progress] {
      absl::Status status = jobs->ApplyProgress(progress);
      if (!status.ok()) {
        LogWarning("event=progress_rejected job=%s gateway=%s device=%s error=\"%s\"",
                   progress.job_id(), progress.gateway_id(), progress.device_id(),
                   status.ToString());
      }
    });
    StartRead(&up_);
  }

  void HandleResultLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    relay::v1::TunnelResult result = up_.result();
    if (result.state() != relay::v1::JOB_STATE_DONE &&
        result.state() != relay::v1::JOB_STATE_FAILED &&
        result.state() != relay::v1::JOB_STATE_HELD) {
      FinishLocked(Invalid(absl::StrCat(
          "TunnelResult state must be DONE, HELD or FAILED, not ",
          JobStateName(result.state()))));
      return;
    }
    // HELD: the gateway has the whole document and holds it until the device
    // can execute it (related design 3).
    if (result.state() != relay::v1::JOB_STATE_FAILED &&
        phase_ != Phase::kPrintAwaitResult) {
      FinishLocked(Invalid(absl::StrCat("TunnelResult ", JobStateName(result.state()),
                                        " before the whole document was sent")));
      return;
    }
    // A FAILED result may come early (the device faulted): stop sending.
    phase_ = Phase::kPrintRecording;
    reader_.reset();
    Ref();
    deps_.store_executor->Post([this, result] {
      absl::StatusOr<relay::v1::Job> job = deps_.jobs->FinishPrintTunnel(
          claims_.access_id, claims_.gateway_id, result, document_);
      {
        absl::MutexLock lock(&mu_);
        if (job.ok()) outcome_recorded_ = true;
        if (!finishing_) {
          if (!job.ok()) {
            FinishLocked(ToGrpcStatus(job.status()));
          } else {
            TunnelDown closed;
            closed.mutable_closed();
            CloseLocked(std::move(closed));
          }
        }
      }
      Unref();
    });
  }

  // --- Scan ---------------------------------------------------------------

  void OnScanAcceptedLocked(absl::StatusOr<std::optional<StoredScan>> existing,
                            absl::StatusOr<std::unique_ptr<BlobWriter>> blob)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finishing_) return;
    if (!existing.ok()) {
      FinishLocked(ToGrpcStatus(existing.status()));
      return;
    }
    if (existing->has_value()) {
      // Stored before: receive (and check) the bytes again but keep nothing.
      existing_id_ = (*existing)->scan.scan_id();
      LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=SCAN size=%d "
              "duplicate_of=%s",
              claims_.access_id, claims_.gateway_id, claims_.device_id, claims_.size,
              existing_id_);
    } else {
      if (!blob.ok()) {
        FinishLocked(ToGrpcStatus(blob.status()));
        return;
      }
      blob_ = std::move(blob).value();
      LogInfo("event=tunnel_open job=%s gateway=%s device=%s direction=SCAN size=%d "
              "user=%s",
              claims_.access_id, claims_.gateway_id, claims_.device_id, claims_.size,
              claims_.user_id);
    }
    phase_ = Phase::kScanReceiving;
    TunnelDown accepted;
    accepted.mutable_accepted()->set_size(claims_.size);
    SendLocked(std::move(accepted));
    StartRead(&up_);
  }

  void HandleChunkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    relay::v1::DataChunk* chunk = up_.mutable_data();
    int64_t size = static_cast<int64_t>(chunk->data().size());
    if (chunk->offset() != received_) {
      FinishLocked(Invalid(absl::StrCat("DataChunk at offset ", chunk->offset(),
                                        ", expected offset ", received_)));
      return;
    }
    if (size > TunnelService::kMaxChunkBytes) {
      FinishLocked(Invalid(absl::StrCat("DataChunk of ", size, " bytes exceeds ",
                                        TunnelService::kMaxChunkBytes)));
      return;
    }
    if (received_ + size > claims_.size) {
      FinishLocked(Invalid(absl::StrCat("DataChunk goes beyond the announced size of ",
                                        claims_.size, " bytes")));
      return;
    }
    received_ += size;
    // The write may block (dirty-page throttling on a slow disk): it runs on
    // the I/O executor, and the next read starts once it is done, so a slow
    // disk slows the gateway down instead of filling memory.
    Ref();
    deps_.io_executor->Post([this, data = std::move(*chunk->mutable_data())] {
      absl::Status written = absl::OkStatus();
      if (blob_ != nullptr) {
        written = blob_->Append(data);
      } else {
        duplicate_hash_.Update(data);
      }
      {
        absl::MutexLock lock(&mu_);
        if (!finishing_) {
          if (!written.ok()) {
            FinishLocked(ToGrpcStatus(written));
          } else {
            StartRead(&up_);
          }
        }
      }
      Unref();
    });
  }

  void HandleEndLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    relay::v1::DataEnd end = up_.end();
    if (end.total_size() != received_ || received_ != claims_.size) {
      FinishLocked(Invalid(absl::StrCat("DataEnd after ", received_, " bytes with total_size ",
                                        end.total_size(), "; ", claims_.size,
                                        " bytes were announced")));
      return;
    }
    if (end.sha256_hex().empty()) {
      FinishLocked(Invalid("DataEnd has no sha256_hex"));
      return;
    }
    if (!open_.sha256_hex().empty() && open_.sha256_hex() != end.sha256_hex()) {
      FinishLocked(Invalid("DataEnd.sha256_hex differs from TunnelOpen.sha256_hex"));
      return;
    }
    phase_ = Phase::kScanCommitting;
    Ref();
    // After the chunk writes already queued on the I/O executor.
    deps_.io_executor->Post([this, want = end.sha256_hex()] {
      std::string sha = blob_ != nullptr ? blob_->FinishHash() : duplicate_hash_.FinishHex();
      if (sha != want) {
        absl::MutexLock lock(&mu_);
        FinishLocked(Invalid(absl::StrCat("scan sha256 is ", sha, " but DataEnd says ", want)));
      } else if (blob_ == nullptr) {
        absl::MutexLock lock(&mu_);
        TunnelDown closed;
        closed.mutable_closed()->set_stored_id(existing_id_);
        if (!finishing_) CloseLocked(std::move(closed));
      } else {
        Ref();
        deps_.commit_executor->Post([this, sha] {
          absl::StatusOr<std::string> stored = deps_.library->CommitScan(
              claims_, open_.content_type(), *blob_, sha);
          {
            absl::MutexLock lock(&mu_);
            if (!stored.ok()) {
              FinishLocked(ToGrpcStatus(stored.status()));
            } else if (!finishing_) {
              TunnelDown closed;
              closed.mutable_closed()->set_stored_id(*stored);
              CloseLocked(std::move(closed));
            }
          }
          Unref();
        });
      }
      Unref();
    });
  }

  // --- Box -----------------------------------------------------------------

  void HandleBoxChunkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const relay::v1::DataChunk& chunk = up_.data();
    if (box_request_.operation() != relay::v1::BOX_OPERATION_READ || box_end_seen_) {
      FinishLocked(Invalid("DataChunk in a box tunnel that carries no document"));
      return;
    }
    if (chunk.offset() != static_cast<int64_t>(box_content_.size())) {
      FinishLocked(Invalid(absl::StrCat("DataChunk at offset ", chunk.offset(),
                                        ", expected offset ", box_content_.size())));
      return;
    }
    if (static_cast<int64_t>(box_content_.size() + chunk.data().size()) >
        BoxBroker::kMaxDocumentBytes) {
      FinishLocked(Invalid(absl::StrCat("box document exceeds ",
                                        BoxBroker::kMaxDocumentBytes, " bytes")));
      return;
    }
    box_content_.append(chunk.data());
    StartRead(&up_);
  }

  void HandleBoxEndLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const relay::v1::DataEnd& end = up_.end();
    if (box_request_.operation() != relay::v1::BOX_OPERATION_READ || box_end_seen_) {
      FinishLocked(Invalid("DataEnd in a box tunnel that carries no document"));
      return;
    }
    if (end.total_size() != static_cast<int64_t>(box_content_.size())) {
      FinishLocked(Invalid(absl::StrCat("DataEnd says ", end.total_size(), " bytes; ",
                                        box_content_.size(), " were sent")));
      return;
    }
    Sha256 hash;
    hash.Update(box_content_);
    if (hash.FinishHex() != end.sha256_hex()) {
      FinishLocked(Invalid("the box document's sha256 differs from DataEnd.sha256_hex"));
      return;
    }
    box_end_seen_ = true;
    StartRead(&up_);
  }

  void HandleBoxResultLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    relay::v1::BoxResult result = up_.box_result();
    if (result.permitted() && box_request_.operation() == relay::v1::BOX_OPERATION_READ) {
      if (!box_end_seen_) {
        FinishLocked(Invalid("BoxResult of a permitted READ before its document's DataEnd"));
        return;
      }
      result.set_content(std::move(box_content_));
    } else if (!box_content_.empty()) {
      FinishLocked(Invalid("BoxResult without a document after document chunks"));
      return;
    }
    absl::Status completed = deps_.boxes->Complete(claims_.access_id, std::move(result));
    box_completed_ = true;
    if (!completed.ok()) {
      FinishLocked(ToGrpcStatus(completed));
      return;
    }
    TunnelDown closed;
    closed.mutable_closed();
    CloseLocked(std::move(closed));
  }

  const TunnelDeps deps_;
  const std::string peer_;
  const PeerIdentity identity_;

  absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitOpen;
  // Only one read is in flight; tasks that continue reading own it until
  // they call StartRead.
  TunnelUp up_;
  relay::v1::TunnelOpen open_;
  // Verified claims (the ids of the tunnel, for logs, until verified).
  TunnelClaims claims_;
  std::deque<TunnelDown> queue_ ABSL_GUARDED_BY(mu_);
  TunnelDown current_ ABSL_GUARDED_BY(mu_);  // Lives until OnWriteDone.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // Finish() was called (exactly once).
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // The tunnel is ending: no new work, Finish once the write in flight ends.
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_after_writes_ ABSL_GUARDED_BY(mu_);
  std::string end_reason_;

  // Print.
  relay::v1::Document document_;
  std::unique_ptr<BlobReader> reader_;
  int64_t sent_ = 0;
  Sha256 hash_;
  bool print_opened_ = false;
  bool outcome_recorded_ = false;

  // Scan.
  std::unique_ptr<BlobWriter> blob_;
  Sha256 duplicate_hash_;
  std::string existing_id_;
  int64_t received_ = 0;

  // Box.
  bool box_opened_ = false;
  bool box_completed_ = false;
  bool box_end_seen_ = false;
  relay::v1::BoxRequest box_request_;
  std::string box_content_;
};

}  // namespace

grpc::ServerBidiReactor<TunnelUp, TunnelDown>* TunnelService::Tunnel(
    grpc::CallbackServerContext* context) {
  return new TunnelReactor(deps_, context->peer(), PeerIdentityOf(*context));
}

}  // namespace relay::cloud
