"""The Python `bittensor-wallet` package's side of the wallet compatibility test.

Usage:
  wallet_compat.py create PATH NAME HOTKEY PASSWORD   make an encrypted coldkey and a hotkey
  wallet_compat.py open PATH NAME HOTKEY PASSWORD     open (decrypt) a wallet made elsewhere
  wallet_compat.py address MNEMONIC                    the SS58 address of a mnemonic

Prints one JSON line last (the package prints progress lines of its own before it); exits
non-zero on failure.
"""

import json
import sys

from bittensor_wallet import Keypair, Wallet


def create(path, name, hotkey, password):
    wallet = Wallet(name=name, hotkey=hotkey, path=path)
    wallet.create_new_coldkey(
        n_words=12, use_password=True, overwrite=False, suppress=True, coldkey_password=password
    )
    wallet.create_new_hotkey(n_words=12, use_password=False, overwrite=False, suppress=True)
    return opened(wallet, password)


def opened(wallet, password):
    coldkey = wallet.get_coldkey(password=password)
    hotkey = wallet.get_hotkey()
    return {
        "coldkey": coldkey.ss58_address,
        "coldkeypub": wallet.get_coldkeypub().ss58_address,
        "coldkey_encrypted": wallet.coldkey_file.is_encrypted(),
        "hotkey": hotkey.ss58_address,
    }


def main(argv):
    command = argv[1]
    if command == "create":
        result = create(*argv[2:6])
    elif command == "open":
        path, name, hotkey, password = argv[2:6]
        result = opened(Wallet(name=name, hotkey=hotkey, path=path), password)
    elif command == "address":
        result = {"ss58": Keypair.create_from_mnemonic(argv[2]).ss58_address}
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
