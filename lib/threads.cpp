#include "threads.h"

#include <algorithm>

namespace facepipe {

int resolve_threads(int requested) {
    return requested > 0 ? requested : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace facepipe
