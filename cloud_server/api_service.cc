#include "cloud_server/api_service.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cloud_server/reactor_refs.h"
#include "cloud_server/user_directory.h"
#include "common/logging.h"
#include "common/status_util.h"

namespace relay::cloud {
namespace {

using relay::v1::DataChunk;
using relay::v1::Job;
using relay::v1::UploadDocumentRequest;

// Runs `fn(user)` on the store executor and finishes the call with its status.
template <typename Fn>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context,
                                   SerialExecutor* executor, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> user = UserOf(*context);
  if (!user.ok()) {
    reactor->Finish(ToGrpcStatus(user.status()));
    return reactor;
  }
  executor->Post([reactor, user = *std::move(user), fn = std::move(fn)]() mutable {
    reactor->Finish(ToGrpcStatus(fn(user)));
  });
  return reactor;
}

// --- UploadDocument ------------------------------------------------------------

class UploadReactor : public grpc::ServerReadReactor<UploadDocumentRequest>,
                      public ReactorRefs {
 public:
  UploadReactor(const ApiDeps& deps, grpc::CallbackServerContext* context,
                relay::v1::Document* response)
      : deps_(deps), context_(context), response_(response) {
    absl::StatusOr<std::string> user = UserOf(*context);
    absl::MutexLock lock(&mu_);
    if (!user.ok()) {
      FinishLocked(ToGrpcStatus(user.status()));
      return;
    }
    user_ = *user;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (!ok) {
      if (context_->IsCancelled()) {
        FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "upload cancelled"));
      } else if (blob_ == nullptr) {
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "upload ended before its metadata"));
      } else if (received_ == 0) {
        // Nothing to print. This also covers a first data message the server
        // refused for its size: gRPC reports that as a failed read, which the
        // callback API cannot tell from the client's half-close.
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "the document is empty"));
      } else {
        CommitLocked();
      }
      return;
    }
    switch (request_.part_case()) {
      case UploadDocumentRequest::kMetadata: {
        if (blob_ != nullptr) {
          FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "metadata sent twice"));
          return;
        }
        metadata_ = request_.metadata();
        absl::Status valid = deps_.library->ValidateDocumentMetadata(metadata_);
        absl::StatusOr<std::unique_ptr<BlobWriter>> blob =
            valid.ok() ? deps_.library->NewBlob()
                       : absl::StatusOr<std::unique_ptr<BlobWriter>>(valid);
        if (!blob.ok()) {
          FinishLocked(ToGrpcStatus(blob.status()));
          return;
        }
        blob_ = std::move(blob).value();
        StartRead(&request_);
        return;
      }
      case UploadDocumentRequest::kData: {
        if (blob_ == nullptr) {
          FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "the first message of an upload must be its metadata"));
          return;
        }
        int64_t size = static_cast<int64_t>(request_.data().size());
        int64_t limit = deps_.library->limits().max_document_bytes;
        if (received_ + size > limit) {
          FinishLocked(grpc::Status(
              grpc::StatusCode::RESOURCE_EXHAUSTED,
              absl::StrCat("document exceeds the limit of ", limit, " bytes")));
          return;
        }
        received_ += size;
        Ref();
        deps_.io_executor->Post([this, data = std::move(*request_.mutable_data())] {
          absl::Status written = blob_->Append(data);
          {
            absl::MutexLock lock(&mu_);
            if (!finished_) {
              if (!written.ok()) {
                FinishLocked(ToGrpcStatus(written));
              } else {
                StartRead(&request_);
              }
            }
          }
          Unref();
        });
        return;
      }
      default:
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "upload message has neither metadata nor data"));
    }
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "upload cancelled"));
  }

  void OnDone() override { Unref(); }

 private:
  void CommitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Ref();
    // After the chunk writes queued on the I/O executor; then the fsync on
    // the commit executor.
    deps_.io_executor->Post([this] {
      std::string sha = blob_->FinishHash();
      deps_.commit_executor->Post([this, sha] {
        bool cancelled;
        {
          absl::MutexLock lock(&mu_);
          // A stream the server itself ended (a message over the size limit)
          // reads like a half-close; it must not leave a document behind.
          cancelled = finished_ || context_->IsCancelled();
        }
        if (!cancelled) {
          absl::StatusOr<relay::v1::Document> document =
              deps_.library->CommitDocument(user_, metadata_, *blob_, sha);
          absl::MutexLock lock(&mu_);
          if (document.ok()) *response_ = *document;
          FinishLocked(ToGrpcStatus(document.status()));
        }
        Unref();
      });
    });
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  const ApiDeps deps_;
  grpc::CallbackServerContext* const context_;
  relay::v1::Document* const response_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::string user_;
  UploadDocumentRequest request_;
  relay::v1::DocumentMetadata metadata_;
  std::unique_ptr<BlobWriter> blob_;
  int64_t received_ = 0;
};

// --- WatchJob --------------------------------------------------------------------

class WatchReactor : public grpc::ServerWriteReactor<Job>, public ReactorRefs {
 public:
  WatchReactor(const ApiDeps& deps, grpc::CallbackServerContext* context,
               std::string job_id)
      : deps_(deps), job_id_(std::move(job_id)) {
    absl::StatusOr<std::string> user = UserOf(*context);
    if (!user.ok()) {
      absl::MutexLock lock(&mu_);
      FinishLocked(ToGrpcStatus(user.status()));
      return;
    }
    subscription_ = deps_.notifier->Subscribe(
        job_id_, [this](const Job& job) { OnChange(job); },
        [this] {
          absl::MutexLock lock(&mu_);
          FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "the cloud server is shutting down"));
        });
    if (subscription_ == 0) {
      absl::MutexLock lock(&mu_);
      FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                "the cloud server is shutting down"));
      return;
    }
    // Subscribed first, then loaded: no change can fall in between.
    Ref();
    deps_.store_executor->Post([this, user = *user] {
      absl::StatusOr<Job> job = deps_.jobs->GetJob(user, job_id_);
      {
        absl::MutexLock lock(&mu_);
        if (!job.ok()) {
          FinishLocked(ToGrpcStatus(job.status()));
        } else {
          authorized_ = true;
          OfferLocked(*job);
          if (latest_.has_value()) OfferLocked(*latest_);
          PumpLocked();
        }
      }
      Unref();
    });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (FinishPendingLocked()) return;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watcher went away"));
      return;
    }
    if (IsFinalJobState(current_.state())) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled"));
  }

  void OnDone() override {
    // Outside mu_: the notifier calls OnChange under its own lock.
    if (subscription_ != 0) deps_.notifier->Unsubscribe(subscription_);
    Unref();
  }

 private:
  // Runs under the notifier's lock: quick, no blocking.
  void OnChange(const Job& job) {
    absl::MutexLock lock(&mu_);
    if (!authorized_) {
      latest_ = job;  // Ownership not checked yet; kept for later.
      return;
    }
    OfferLocked(job);
    PumpLocked();
  }

  // Every change appends one history event: its length orders versions.
  void OfferLocked(const Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int version = job.history_size();
    if (version <= offered_version_) return;
    offered_version_ = version;
    pending_ = job;  // Only the newest version waits; older ones are moot.
  }

  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_ || finish_status_.has_value() || !pending_.has_value()) return;
    current_ = std::move(*pending_);
    pending_.reset();
    writing_ = true;
    StartWrite(&current_);
  }

  // Finish once, and only once no write is in flight (OnWriteDone then
  // finishes).
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || finish_status_.has_value()) return;
    finish_status_ = status;
    if (!writing_) {
      finished_ = true;
      Finish(status);
    }
  }

  // Called from OnWriteDone once writing_ is false: true if finished now.
  bool FinishPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return true;
    if (!finish_status_.has_value()) return false;
    finished_ = true;
    Finish(*finish_status_);
    return true;
  }

  const ApiDeps deps_;
  const std::string job_id_;
  uint64_t subscription_ = 0;
  absl::Mutex mu_;
  bool authorized_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Job> latest_ ABSL_GUARDED_BY(mu_);
  std::optional<Job> pending_ ABSL_GUARDED_BY(mu_);
  int offered_version_ ABSL_GUARDED_BY(mu_) = 0;
  Job current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
};

// --- DownloadScan ----------------------------------------------------------------

class DownloadReactor : public grpc::ServerWriteReactor<DataChunk>, public ReactorRefs {
 public:
  DownloadReactor(const ApiDeps& deps, grpc::CallbackServerContext* context,
                  std::string scan_id)
      : deps_(deps) {
    absl::StatusOr<std::string> user = UserOf(*context);
    if (!user.ok()) {
      absl::MutexLock lock(&mu_);
      FinishLocked(ToGrpcStatus(user.status()));
      return;
    }
    Ref();
    deps_.store_executor->Post([this, user = *user, scan_id] {
      auto opened = deps_.library->OpenScan(user, scan_id);
      {
        absl::MutexLock lock(&mu_);
        if (!opened.ok()) {
          FinishLocked(ToGrpcStatus(opened.status()));
        } else if (!finished_) {
          scan_ = opened->first;
          reader_ = std::move(opened->second);
          LogInfo("event=scan_download job=%s gateway=%s device=%s user=%s size=%d",
                  scan_.scan_id(), scan_.gateway_id(), scan_.device_id(), user,
                  scan_.size());
          PumpLocked();
        }
      }
      Unref();
    });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (FinishPendingLocked()) return;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "downloader went away"));
      return;
    }
    PumpLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "download cancelled"));
  }

  void OnDone() override { Unref(); }

 private:
  // A pread of one chunk from the page cache: cheap enough for a callback.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || finish_status_.has_value()) return;
    if (sent_ >= scan_.size()) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    int64_t want = std::min<int64_t>(ApiService::kDownloadChunkBytes, scan_.size() - sent_);
    chunk_.set_offset(sent_);
    absl::Status read = reader_->ReadAt(sent_, want, chunk_.mutable_data());
    if (read.ok() && static_cast<int64_t>(chunk_.data().size()) != want) {
      read = absl::DataLossError(absl::StrCat("scan ", scan_.scan_id(),
                                              " is shorter on disk than recorded"));
    }
    if (!read.ok()) {
      FinishLocked(ToGrpcStatus(read));
      return;
    }
    sent_ += want;
    writing_ = true;
    StartWrite(&chunk_);
  }

  // Finish once, and only once no write is in flight (OnWriteDone then
  // finishes).
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || finish_status_.has_value()) return;
    finish_status_ = status;
    if (!writing_) {
      finished_ = true;
      Finish(status);
    }
  }

  // Called from OnWriteDone once writing_ is false: true if finished now.
  bool FinishPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return true;
    if (!finish_status_.has_value()) return false;
    finished_ = true;
    Finish(*finish_status_);
    return true;
  }

  const ApiDeps deps_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  relay::v1::Scan scan_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<BlobReader> reader_ ABSL_GUARDED_BY(mu_);
  int64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  DataChunk chunk_ ABSL_GUARDED_BY(mu_);  // Lives until OnWriteDone.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::string> UserOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kAuthorizationMetadataKey);
  absl::Status refused;
  if (it == metadata.end() || it->second.empty()) {
    refused = absl::UnauthenticatedError(
        metadata.find(kUserMetadataKey) != metadata.end()
            ? "the x-relay-user header is not accepted any more: send "
              "\"authorization: Bearer <token>\" (relayctl --token, RELAY_TOKEN or a "
              "token file; tokens come from `cloud_server users add`)"
            : "no credentials: send \"authorization: Bearer <token>\" (relayctl "
              "--token, RELAY_TOKEN or a token file; tokens come from `cloud_server "
              "users add`)");
  } else {
    const UserDirectory* directory = ApiUserDirectory();
    if (directory == nullptr) {
      refused = absl::UnauthenticatedError("the cloud server has no user directory");
    } else {
      absl::StatusOr<std::string> user = directory->Authenticate(
          absl::string_view(it->second.data(), it->second.size()));
      if (user.ok()) return user;
      refused = user.status();
    }
  }
  LogWarning("event=auth_refused peer=%s reason=\"%s\"", context.peer(),
             refused.message());
  return refused;
}

grpc::ServerReadReactor<UploadDocumentRequest>* ApiService::UploadDocument(
    grpc::CallbackServerContext* context, relay::v1::Document* response) {
  return new UploadReactor(deps_, context, response);
}

grpc::ServerUnaryReactor* ApiService::ListDocuments(
    grpc::CallbackServerContext* context, const relay::v1::ListDocumentsRequest* /*request*/,
    relay::v1::ListDocumentsResponse* response) {
  return RunUnary(context, deps_.store_executor, [this, response](const std::string& user) {
    absl::StatusOr<std::vector<relay::v1::Document>> documents =
        deps_.library->ListDocuments(user);
    if (!documents.ok()) return documents.status();
    for (auto& d : *documents) *response->add_documents() = std::move(d);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ApiService::ListPrinters(
    grpc::CallbackServerContext* context, const relay::v1::ListPrintersRequest* /*request*/,
    relay::v1::ListPrintersResponse* response) {
  return RunUnary(context, deps_.store_executor, [this, response](const std::string& user) {
    absl::StatusOr<std::vector<relay::v1::Printer>> printers =
        deps_.mirror->ListPrinters(user);
    if (!printers.ok()) return printers.status();
    for (auto& p : *printers) *response->add_printers() = std::move(p);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ApiService::SubmitPrint(grpc::CallbackServerContext* context,
                                                  const relay::v1::SubmitPrintRequest* request,
                                                  relay::v1::Job* response) {
  return RunUnary(context, deps_.store_executor,
                  [this, request, response](const std::string& user) {
                    absl::StatusOr<Job> job =
                        deps_.jobs->SubmitPrint(user, request->document_id(),
                                                request->device_id(),
                                                request->client_request_id());
                    if (!job.ok()) return job.status();
                    *response = *std::move(job);
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* ApiService::GetJob(grpc::CallbackServerContext* context,
                                             const relay::v1::GetJobRequest* request,
                                             relay::v1::Job* response) {
  return RunUnary(context, deps_.store_executor,
                  [this, request, response](const std::string& user) {
                    absl::StatusOr<Job> job = deps_.jobs->GetJob(user, request->job_id());
                    if (!job.ok()) return job.status();
                    *response = *std::move(job);
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* ApiService::ListJobs(grpc::CallbackServerContext* context,
                                               const relay::v1::ListJobsRequest* /*request*/,
                                               relay::v1::ListJobsResponse* response) {
  return RunUnary(context, deps_.store_executor, [this, response](const std::string& user) {
    absl::StatusOr<std::vector<Job>> jobs = deps_.jobs->ListJobs(user);
    if (!jobs.ok()) return jobs.status();
    for (auto& j : *jobs) *response->add_jobs() = std::move(j);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<Job>* ApiService::WatchJob(grpc::CallbackServerContext* context,
                                                    const relay::v1::GetJobRequest* request) {
  return new WatchReactor(deps_, context, request->job_id());
}

grpc::ServerUnaryReactor* ApiService::ListScans(grpc::CallbackServerContext* context,
                                                const relay::v1::ListScansRequest* /*request*/,
                                                relay::v1::ListScansResponse* response) {
  return RunUnary(context, deps_.store_executor, [this, response](const std::string& user) {
    absl::StatusOr<std::vector<relay::v1::Scan>> scans = deps_.library->ListScans(user);
    if (!scans.ok()) return scans.status();
    for (auto& s : *scans) *response->add_scans() = std::move(s);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<DataChunk>* ApiService::DownloadScan(
    grpc::CallbackServerContext* context, const relay::v1::DownloadScanRequest* request) {
  return new DownloadReactor(deps_, context, request->scan_id());
}

grpc::ServerUnaryReactor* ApiService::AccessBox(grpc::CallbackServerContext* context,
                                                const relay::v1::BoxAccessRequest* request,
                                                relay::v1::BoxResult* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> user = UserOf(*context);
  if (!user.ok()) {
    reactor->Finish(ToGrpcStatus(user.status()));
    return reactor;
  }
  if (deps_.boxes == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                 "box access is not enabled on this server"));
    return reactor;
  }
  // `response` lives until Finish.
  deps_.boxes->Submit(*user, *request,
                      [reactor, response](absl::StatusOr<relay::v1::BoxResult> result) {
                        if (result.ok()) *response = *std::move(result);
                        reactor->Finish(ToGrpcStatus(result.status()));
                      });
  return reactor;
}

}  // namespace relay::cloud
