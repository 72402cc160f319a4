# server/build.mk: rules of this component (see top Makefile)
