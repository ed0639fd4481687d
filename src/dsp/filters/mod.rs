//! The mastering EQ and the filters it is made of: the Simper/Zavalishin state-variable filter
//! ([`svf`]) every minimum-phase band runs on, the coefficient design ([`eq_design`]), and the
//! linear-phase mode (FIR design, partitioned convolution, the designer thread).

pub mod crossover;
pub mod elliptical;
pub mod eq;
pub mod eq_design;
pub mod fir_crossover;
pub mod fir_design;
pub mod linear_phase;
pub mod linear_phase_designer;
pub mod match_curve;
pub mod oversampler;
pub mod partitioned_convolver;
pub mod riaa;
pub mod svf;
