// See ../context.h: declarations the c10d Gloo header needs, nothing more.
#pragma once

namespace gloo {
namespace transport {
class Device;
class UnboundBuffer;
}  // namespace transport
}  // namespace gloo
