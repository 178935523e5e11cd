// Start here: the store module (profilestore::store). Knows nothing of CAF.
//
//   storage        apply_batch (group commit), reads        store/storage.hpp
//   ops            the session-lock rules, pure functions   store/ops.hpp
//   record         the profile record and its bytes         store/record.hpp,
//                                                           store/record_codec.hpp
//   versions       version window, retention, tombstones    store/versions.hpp
//   backends       lmdb, memory (mock), faulty (tests)      store/*_backend.hpp
//   names, limits  what storage accepts                     store/names.hpp,
//                                                           store/limits.hpp
//   admin tools    all-or-nothing batches, table walks      store/atomic_batch.hpp,
//                                                           store/catalog.hpp
#pragma once

#include "profilestore/store/atomic_batch.hpp"
#include "profilestore/store/backend.hpp"
#include "profilestore/store/catalog.hpp"
#include "profilestore/store/faulty_backend.hpp"
#include "profilestore/store/limits.hpp"
#include "profilestore/store/lmdb_backend.hpp"
#include "profilestore/store/memory_backend.hpp"
#include "profilestore/store/names.hpp"
#include "profilestore/store/ops.hpp"
#include "profilestore/store/record.hpp"
#include "profilestore/store/record_codec.hpp"
#include "profilestore/store/storage.hpp"
#include "profilestore/store/versions.hpp"
