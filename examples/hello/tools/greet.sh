#!/bin/sh
echo "greetings from the Stapel image, commit ${1:-unknown}"
