// What the broker device harnesses share: an input read front to back, and the rings of one
// input lent to a device that lives across inputs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "base/result.hpp"
#include "broker/testing/current_queues.hpp"

namespace runvm::broker::fuzz {

// Past the input's end every byte reads as 0 and copies come up short.
class Input {
public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    size_t left() const { return size_ - at_; }
    bool empty() const { return at_ >= size_; }
    uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    uint16_t le16() {
        const uint8_t low = byte(); // sequenced: the operands of | are not
        return static_cast<uint16_t>(low | (byte() << 8));
    }
    // Copies up to `n` bytes to `to`; the rest of `to` is left as it was.
    void copy(uint8_t* to, size_t n) {
        n = std::min(n, left());
        std::memcpy(to, data_ + at_, n);
        at_ += n;
    }
    // Up to `want` bytes, fewer when the input ends first.
    std::vector<uint8_t> bytes(size_t want) {
        const size_t n = std::min(want, left());
        std::vector<uint8_t> out(data_ + at_, data_ + at_ + n);
        at_ += n;
        return out;
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

// Fresh guest RAM and rings for one input, set into the device's CurrentQueues until this
// goes out of scope; between inputs the device sees no queues.
class InputQueues {
public:
    InputQueues(testing::CurrentQueues& context, uint16_t count, uint16_t size, uint64_t ram_bytes,
                bool event_idx)
        : context_(context),
          queues_(testing::DirectQueues::create(count, size, ram_bytes, event_idx)) {
        if (queues_) {
            context_.set(queues_->get());
        }
    }
    ~InputQueues() { context_.set(nullptr); }
    InputQueues(const InputQueues&) = delete;
    InputQueues& operator=(const InputQueues&) = delete;

    // False when the RAM or the rings could not be made: the input is skipped.
    bool ok() const { return queues_.ok(); }
    testing::DirectQueues& operator*() { return **queues_; }

private:
    testing::CurrentQueues& context_;
    Result<std::unique_ptr<testing::DirectQueues>> queues_;
};

} // namespace runvm::broker::fuzz
