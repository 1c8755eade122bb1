# Only full-width spellings: the ASCII words of the sink appear nowhere.
import ｐｉｃｋｌｅ as ｐｋ


def restore(p):
    with open(p, "rb") as fh:
        return ｐｋ.ｌｏａｄ(fh)  # want: MLG102
