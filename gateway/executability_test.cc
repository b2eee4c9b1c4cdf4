#include "gateway/executability.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace relay::gateway {
namespace {

relay::v1::DeviceInfo Device(relay::v1::DeviceStatus status) {
  relay::v1::DeviceInfo d;
  d.set_device_id("mfp-1");
  d.set_status(status);
  auto* caps = d.mutable_capabilities();
  caps->set_print(true);
  caps->add_formats("application/pdf");
  caps->add_formats("application/octet-stream");
  return d;
}

JobRequirements Pdf() {
  JobRequirements r;
  r.content_type = "application/pdf";
  return r;
}

TEST(ExecutabilityTest, IdleDeviceExecutes) {
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_IDLE), Pdf()), "");
}

TEST(ExecutabilityTest, UnspecifiedStatusCountsAsReady) {
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_UNSPECIFIED), Pdf()), "");
}

TEST(ExecutabilityTest, EachFaultIsAReason) {
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_PAPER_OUT), Pdf()),
            "device mfp-1 is out of paper");
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_TONER_EMPTY), Pdf()),
            "device mfp-1 is out of toner");
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_OFFLINE), Pdf()),
            "device mfp-1 is offline");
}

TEST(ExecutabilityTest, BusyHoldsOnlyWithoutAQueue) {
  relay::v1::DeviceInfo busy = Device(relay::v1::DEVICE_STATUS_BUSY);
  EXPECT_TRUE(absl::StrContains(CheckExecutable(busy, Pdf()), "busy"));
  busy.mutable_capabilities()->set_accepts_queued_jobs(true);
  EXPECT_EQ(CheckExecutable(busy, Pdf()), "");
}

TEST(ExecutabilityTest, FormatMustBeListed) {
  JobRequirements png;
  png.content_type = "image/png";
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_IDLE), png),
            "device mfp-1 does not print the format image/png");
  JobRequirements upper;
  upper.content_type = "Application/PDF";
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_IDLE), upper), "");
}

TEST(ExecutabilityTest, EmptyFormatsOrTypeAcceptAnything) {
  relay::v1::DeviceInfo any = Device(relay::v1::DEVICE_STATUS_IDLE);
  any.mutable_capabilities()->clear_formats();
  JobRequirements png;
  png.content_type = "image/png";
  EXPECT_EQ(CheckExecutable(any, png), "");
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_IDLE), JobRequirements()), "");
}

TEST(ExecutabilityTest, ColourAndDuplexMustBeThere) {
  relay::v1::DeviceInfo mono = Device(relay::v1::DEVICE_STATUS_IDLE);
  JobRequirements color = Pdf();
  color.options.set_color(true);
  EXPECT_TRUE(absl::StrContains(CheckExecutable(mono, color), "colour"));
  JobRequirements duplex = Pdf();
  duplex.options.set_duplex(true);
  EXPECT_TRUE(absl::StrContains(CheckExecutable(mono, duplex), "duplex"));
  mono.mutable_capabilities()->set_color(true);
  mono.mutable_capabilities()->set_duplex(true);
  EXPECT_EQ(CheckExecutable(mono, color), "");
  EXPECT_EQ(CheckExecutable(mono, duplex), "");
}

TEST(ExecutabilityTest, StateIsCheckedBeforeCapabilities) {
  JobRequirements png;
  png.content_type = "image/png";
  EXPECT_EQ(CheckExecutable(Device(relay::v1::DEVICE_STATUS_OFFLINE), png),
            "device mfp-1 is offline");
}

}  // namespace
}  // namespace relay::gateway
