# Faults and hostile input against the link engine on the NAT lab (issue 7
# evidence 1-7). Root and namespaces needed, else skip (77).
tunnel_script_test(NAME lab_fault_nat COMMAND tests/lab/test_fault_nat.sh LABELS lab TIMEOUT 150)
# lab_fault_rdv watches an idle-but-pinged link for 200 s (IDLE: beside the others).
tunnel_script_test(NAME lab_fault_rdv COMMAND tests/lab/test_fault_rdv.sh LABELS lab TIMEOUT 360 IDLE)
tunnel_script_test(NAME lab_fault_hostile COMMAND tests/lab/test_fault_hostile.sh LABELS lab TIMEOUT 150)
tunnel_script_test(NAME lab_fault_handshake COMMAND tests/lab/test_fault_handshake.sh LABELS lab TIMEOUT 150)
tunnel_script_test(NAME lab_fault_netem COMMAND tests/lab/test_fault_netem.sh LABELS lab TIMEOUT 300)
