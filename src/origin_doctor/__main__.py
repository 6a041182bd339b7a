from origin_doctor.cli import main

main()
