# 15 minutes, and users cannot unset it
readonly TMOUT=900
export TMOUT
