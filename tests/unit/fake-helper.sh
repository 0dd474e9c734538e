#!/bin/sh
# A PAM helper that misbehaves, for test-auth: HOURGLASS_TEST_FAKE_HELPER
# picks how. It never touches PAM.
case "${HOURGLASS_TEST_FAKE_HELPER:-hang}" in
garbage)
  # One packet on the helper socket that is no message at all.
  printf 'garbage' >&3
  ;;
esac
# Hang, the socket open, until killed (a minute at most, should the test
# that started us die without killing us).
exec sleep 60
