"""Drive a node with async-substrate-interface 2.x (metadata V15 through state_call).

Usage: asi_check.py WS_URL. Prints one JSON line with what it saw; exits non-zero on failure.
"""

import asyncio
import json
import sys

from async_substrate_interface import AsyncSubstrateInterface
from bittensor_wallet import Keypair

ALICE = "//Alice"


async def main(url: str) -> dict:
    alice = Keypair.create_from_uri(ALICE)
    bob = Keypair.create_from_uri("//Bob")
    async with AsyncSubstrateInterface(url, ss58_format=42) as s:
        account = await s.query("System", "Account", [alice.ss58_address])
        call = await s.compose_call(
            "Balances", "transfer_keep_alive", {"dest": bob.ss58_address, "value": 10**9}
        )
        xt = await s.create_signed_extrinsic(call=call, keypair=alice)
        receipt = await s.submit_extrinsic(xt, wait_for_inclusion=True)
        success = await receipt.is_success
        neurons = await s.runtime_call("NeuronInfoRuntimeApi", "get_neurons_lite", [1])
        neurons = getattr(neurons, "value", neurons)
        aura = await s.query("Aura", "Authorities")
        aura = getattr(aura, "value", aura)
        first = await s.get_chain_finalised_head()
        latest = first
        for _ in range(100):  # real finality moves on: poll for up to 20 s
            latest = await s.get_chain_finalised_head()
            if latest != first:
                break
            await asyncio.sleep(0.2)
        return {
            "aura_authorities": len(aura),
            "finality_advanced": latest != first,
            "alice_free": account.value["data"]["free"],
            "transfer_success": success,
            "neurons": len(neurons),
            "first_neuron_uid": neurons[0]["uid"] if neurons else None,
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
