// SET_MEM_TABLE: turns the message's region list and fds into mapped GuestMemory.
#pragma once

#include <memory>

#include "broker/virtio/guest_memory.hpp"
#include "vhost_user/message.hpp"

namespace runvm::broker::vhost_user {

// The wire format (vhost_user/, shared with runvm-vmm) is this namespace's vocabulary.
using namespace ::runvm::vhost_user;

// Checks the payload size against the region count, one fd per region, each region inside
// its fd's file size, no overflow and no overlap; then maps every region MAP_SHARED.
Result<std::unique_ptr<GuestMemory>> map_memory_table(const Message& msg);

} // namespace runvm::broker::vhost_user
