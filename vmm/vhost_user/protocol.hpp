// vhost-user wire format, frontend side: the broker's definitions (the one copy of the
// protocol, broker/vhost_user/protocol.hpp) plus the memory table the frontend sends whole.
#pragma once

#include <cstdint>

#include "broker/vhost_user/protocol.hpp"

namespace runvm::vmm::vhost_user {

using broker::vhost_user::ConfigHeader;
using broker::vhost_user::Header;
using broker::vhost_user::MemoryHeader;
using broker::vhost_user::MemoryRegionDesc;
using enum broker::vhost_user::Request;
using broker::vhost_user::VringAddr;
using broker::vhost_user::VringState;

using broker::vhost_user::F_PROTOCOL_FEATURES;
using broker::vhost_user::FLAG_NEED_REPLY;
using broker::vhost_user::FLAG_REPLY;
using broker::vhost_user::MAX_CONFIG_SIZE;
using broker::vhost_user::MAX_MEM_REGIONS;
using broker::vhost_user::MAX_PAYLOAD;
using broker::vhost_user::PROTOCOL_F_CONFIG;
using broker::vhost_user::PROTOCOL_F_MQ;
using broker::vhost_user::PROTOCOL_F_REPLY_ACK;
using broker::vhost_user::VERSION;

// SET_MEM_TABLE's payload as the frontend builds it: the header and every region.
struct MemoryTable {
    MemoryHeader header;
    MemoryRegionDesc regions[MAX_MEM_REGIONS];
};
static_assert(sizeof(MemoryTable) == 8 + 32 * MAX_MEM_REGIONS);

} // namespace runvm::vmm::vhost_user
