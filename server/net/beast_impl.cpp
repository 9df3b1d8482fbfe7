// Beast's compiled part (BOOST_BEAST_SEPARATE_COMPILATION): built once here instead of in every file.
#include <boost/beast/src.hpp>
