// Arm assignment, checked against the engine contract (spec section 4, rule
// 5): bucket = u64(first 8 bytes, big-endian, of SHA-256(salt ":" id)) mod
// 10000; control when bucket < floor(holdout_percent * 100 + 0.5).
#include "ghostwatch/policy/arm.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace gw {
namespace {

// Expected buckets computed once, independently of the code under test, with
//   printf '%s' 'ag-2019:u1' | openssl dgst -sha256
// (first 8 bytes shown below) and
//   /usr/bin/python3 -c "import hashlib; d = hashlib.sha256(b'ag-2019:u1').digest();
//                        print(int.from_bytes(d[:8], 'big') % 10000)"
struct Known {
  const char* salt;
  const char* id;
  std::uint32_t bucket;  // first 8 digest bytes, as hex, in the comment
};

constexpr Known kKnown[] = {
    {"ag-2019", "u1", 8149},             // c2bbf9ae369d0545
    {"ag-2019", "u2", 9659},             // a5f7acb52423b60b
    {"ag-2019", "freelancer-42", 2188},  // de1cd584b1e5e15c
    {"ag-2019", "fl-14", 136},           // 0583b12fdb21cc28
    {"ag-2019", "fl-31", 164},           // c107ca3b090c7a64
    {"ag-2019", "fl-34", 1259},          // 03415a31486c9c5b
    {"", "u1", 9686},                    // b86ee3f23da3abc6: the input is ":u1"
    {"salt", "\xC3\xA9milie", 1492},     // 17b21aecf9df8ff4: UTF-8 bytes of "émilie"
    {"ag-2019", "", 4875},               // 73c1e03a1309358b: the input is "ag-2019:"
    // Inputs of more than one 64-byte block.
    {"ag-2019",
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
     246},  // 5bd52fc80e108516: 200 x
    {"ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss", "fl-1", 9726},  // 164e985baffb3d7e
};

TEST(ArmTest, BucketMatchesIndependentlyComputedSha256) {
  for (const Known& k : kKnown) {
    EXPECT_EQ(arm_bucket(k.salt, k.id), k.bucket) << "salt \"" << k.salt << "\", id \"" << k.id << '"';
  }
}

TEST(ArmTest, EveryThreadGetsTheSameBuckets) {
  // Each thread hashes with its own reused context: a digest must not carry
  // anything over from the one before it, in this thread or another.
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int round = 0; round < 200; ++round) {
        for (const Known& k : kKnown) wrong[t] += arm_bucket(k.salt, k.id) != k.bucket;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(ArmTest, SaltAndIdAreJoinedWithAColon) {
  // "ag-2019" + ":" + "u1" and "ag-2019:" + ":" + "u1" hash different text;
  // "a:b" + ":" + "c" and "a" + ":" + "b:c" hash the same text "a:b:c".
  EXPECT_EQ(arm_bucket("a:b", "c"), arm_bucket("a", "b:c"));
  EXPECT_NE(arm_bucket("ag-2019", "u1"), arm_bucket("ag-2019:", "u1"));  // 8149 vs a different digest
}

TEST(ArmTest, HoldoutThresholdRoundsHalfUp) {
  // floor(p * 100 + 0.5).
  EXPECT_EQ(holdout_threshold(0.125), 13u);  // 12.5 + 0.5 = 13
  EXPECT_EQ(holdout_threshold(0.124), 12u);  // 12.4 + 0.5 = 12.9
  EXPECT_EQ(holdout_threshold(10), 1000u);
  EXPECT_EQ(holdout_threshold(10.0), 1000u);
  EXPECT_EQ(holdout_threshold(100), 10000u);
  EXPECT_EQ(holdout_threshold(0), 0u);
  EXPECT_EQ(holdout_threshold(12.5), 1250u);
  EXPECT_EQ(holdout_threshold(0.004), 0u);  // 0.4 + 0.5 = 0.9
  EXPECT_EQ(holdout_threshold(0.006), 1u);  // 0.6 + 0.5 = 1.1
  EXPECT_EQ(holdout_threshold(0.01), 1u);
  EXPECT_EQ(holdout_threshold(50), 5000u);
  EXPECT_EQ(holdout_threshold(99.99), 9999u);
}

TEST(ArmTest, AssignArmAtTheThresholdsEdge) {
  // fl-14 has bucket 136: control exactly when the threshold is above 136.
  EXPECT_EQ(assign_arm("ag-2019", "fl-14", 136), Arm::kTreatment);  // bucket == threshold: not below
  EXPECT_EQ(assign_arm("ag-2019", "fl-14", 137), Arm::kControl);
  EXPECT_EQ(assign_arm("ag-2019", "fl-14", 135), Arm::kTreatment);
  // u1 has bucket 8149.
  EXPECT_EQ(assign_arm("ag-2019", "u1", 8149), Arm::kTreatment);
  EXPECT_EQ(assign_arm("ag-2019", "u1", 8150), Arm::kControl);
  // Through holdout_threshold: 1.37% -> 137 puts fl-14 in control, 1.36% -> 136 does not.
  EXPECT_EQ(assign_arm("ag-2019", "fl-14", holdout_threshold(1.37)), Arm::kControl);
  EXPECT_EQ(assign_arm("ag-2019", "fl-14", holdout_threshold(1.36)), Arm::kTreatment);
  // 0% holds nobody out, 100% everybody.
  for (const Known& k : kKnown) {
    EXPECT_EQ(assign_arm(k.salt, k.id, holdout_threshold(0)), Arm::kTreatment) << k.id;
    EXPECT_EQ(assign_arm(k.salt, k.id, holdout_threshold(100)), Arm::kControl) << k.id;
  }
  // The spec's example holdout, 10%: threshold 1000.
  EXPECT_EQ(assign_arm("ag-2019", "fl-14", holdout_threshold(10.0)), Arm::kControl);            // 136
  EXPECT_EQ(assign_arm("ag-2019", "fl-34", holdout_threshold(10.0)), Arm::kTreatment);          // 1259
  EXPECT_EQ(assign_arm("ag-2019", "freelancer-42", holdout_threshold(10.0)), Arm::kTreatment);  // 2188
}

TEST(ArmTest, ArmNames) {
  EXPECT_EQ(arm_name(Arm::kControl), "control");
  EXPECT_EQ(arm_name(Arm::kTreatment), "treatment");
}

}  // namespace
}  // namespace gw
