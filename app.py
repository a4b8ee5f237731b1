import sys

print("app comes with the app issue", file=sys.stderr)
