#include "gateway/device_reporter.h"

#include <memory>

#include "gateway/testing/fake_mgmt_client.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

using relay::v1::DeviceInfo;

DeviceInfo Device(const std::string& id) {
  DeviceInfo d;
  d.set_device_id(id);
  d.set_address("10.0.0.1:50081");
  d.set_protocol("mfp-sim");
  return d;
}

DeviceRegistration Row(const std::string& id, bool registered, int jobs = 0) {
  DeviceRegistration r;
  r.device_id = id;
  r.registered = registered;
  r.jobs_in_flight = jobs;
  return r;
}

const DeviceInfo* Find(const relay::v1::DeviceList& list, const std::string& id) {
  for (const DeviceInfo& d : list.devices()) {
    if (d.device_id() == id) return &d;
  }
  return nullptr;
}

// The interval is an hour: nothing here waits for it to pass.
constexpr absl::Duration kThrottle = absl::Hours(1);

class DeviceReporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    list_.SetDiscovered({Device("a"), Device("b")});
    list_.SetRegistrations(++seq_, {Row("a", true), Row("b", false)});
    reporter_ = std::make_unique<DeviceReporter>(&list_, &mgmt_, kThrottle);
    reporter_->ReportAll();
    mgmt_.WaitForDeviceReports(1);
  }
  void SetRows(std::vector<DeviceRegistration> rows) {
    if (list_.SetRegistrations(++seq_, std::move(rows))) reporter_->MaybeReport();
  }

  DeviceList list_{"gw-1", 5, 1000};
  uint64_t seq_ = 0;
  testing::FakeMgmtClient mgmt_;
  std::unique_ptr<DeviceReporter> reporter_;
};

TEST_F(DeviceReporterTest, BusyFlagsWaitAndGoWithTheNextRealChange) {
  SetRows({Row("a", true, 1), Row("b", false)});  // a job starts on a: throttled
  SetRows({Row("a", true, 1), Row("b", true)});   // b registered: reported at once
  relay::v1::DeviceList report = mgmt_.WaitForDeviceReports(2);
  EXPECT_EQ(report.version(), list_.version());
  ASSERT_NE(Find(report, "a"), nullptr);
  EXPECT_TRUE(Find(report, "a")->job_in_flight());
  ASSERT_NE(Find(report, "b"), nullptr);
  EXPECT_TRUE(Find(report, "b")->registered());
  reporter_.reset();
  EXPECT_EQ(mgmt_.device_reports().size(), 2u);  // one report carried both
}

TEST_F(DeviceReporterTest, ThrottledFlagsAreSentAtShutdown) {
  SetRows({Row("a", true, 1), Row("b", false)});
  SetRows({Row("a", true, 0), Row("b", false)});
  reporter_.reset();  // does not wait the hour
  std::vector<relay::v1::DeviceList> reports = mgmt_.device_reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports.back().version(), list_.version());
}

TEST(DeviceReporterNoThrottleTest, EveryChangeGoesAtOnce) {
  DeviceList list("gw-1", 5, 1000);
  testing::FakeMgmtClient mgmt;
  DeviceReporter reporter(&list, &mgmt);
  list.SetDiscovered({Device("a")});
  list.SetRegistrations(1, {Row("a", true)});
  reporter.MaybeReport();
  mgmt.WaitForDeviceReports(1);
  list.SetRegistrations(2, {Row("a", true, 1)});
  reporter.MaybeReport();
  EXPECT_TRUE(Find(mgmt.WaitForDeviceReports(2), "a")->job_in_flight());
}

}  // namespace
}  // namespace relay::gateway
