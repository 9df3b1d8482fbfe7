// Asio's compiled part (BOOST_ASIO_SEPARATE_COMPILATION): built once here instead of in every file.
#include <boost/asio/impl/src.hpp>
