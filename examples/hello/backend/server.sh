#!/bin/sh
echo "backend says: $(cat /app/greeting.txt)"
