# Plan "compare": the stress test's PRIVATE-only pattern (-P) on upstream's C
# store, then the same and the NR/NW/NX pattern on kvm_memattr, in one boot:
# tells a fault of the emulator or upstream KVM from one of the module.
n=$(cmdline_num n 10)
secs=$(cmdline_num secs 5)
seed=$(cmdline_num seed 1)
soak_variant npt c-private -P
if load_module; then
	soak_variant npt rust-private -P
	soak_variant npt rust-base
	soak_variant npt rust-base-noslot -M
	rmmod kvm_memattr
fi
