# Every dependency comes from Debian 12's packages; see README.md for the
# install line. Packages without a CMake config are found with pkg-config.
find_package(PkgConfig REQUIRED)
find_package(simdjson REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(date REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_package(SQLiteCpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(Threads REQUIRED)
# The mail layer: GMime 3 builds and parses MIME, libcurl speaks SMTP,
# kainjow-mustache (header-only, no CMake config) renders the templates.
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
# Inbound mail: libxml2's forgiving HTML parser turns HTML-only replies into text.
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
find_package(CURL REQUIRED)
# The shared store for several workers: PostgreSQL through libpqxx 6 (pkg-config only).
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
find_path(KAINJOW_MUSTACHE_INCLUDE_DIR kainjow/mustache.hpp REQUIRED)
# The risk model: gradient-boosted trees through XGBoost's C API (the
# `xgboost` package ships the CMake config that libxgboost-dev lacks), and
# Eigen for the logistic-regression baseline.
find_package(xgboost REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
# `import` reads gzip-compressed edge lists (and plain files) through zlib.
find_package(ZLIB REQUIRED)
# The event log for several workers: NATS JetStream through nats.c (pkg-config only:
# Debian's find_package(cnats) config names a static library it does not ship).
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
