"""Bring threads over from X/Twitter: an archive (`archive`, `threads`) or unrolled text
(`unrolled`) becomes `ImportedThread`s, which `writer` turns into draft files."""
